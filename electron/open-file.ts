/**
 * `.chatsafe` bundles the operating system hands to the app (the installers
 * register the file association): on Windows and Linux as a command-line
 * argument of the first launch or, through the single-instance lock, of a
 * second one; on macOS as 'open-file' events, possibly before the app is
 * ready. Everything here is plain Node, so it is tested without Electron.
 *
 * The command line is hostile: anyone can start the app with any arguments.
 * Only a path to an existing regular file named *.chatsafe is accepted; every
 * other argument (Electron and Chromium switches, `--`, URLs, the app's own
 * path) is ignored. What is accepted is only a path to show in Inspect: the
 * router validates and reads it like any path a person typed.
 */
import { statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';

/** Longer paths are not file names a file manager passes (and PathSchema refuses them). */
export const MAX_OPENED_PATH = 4096;

const BUNDLE_EXTENSION = /\.chatsafe$/i;
/** A URL scheme has two or more characters, so a Windows drive letter (`C:\…`) is not one. */
const URL_LIKE = /^[a-z][a-z0-9+.-]+:/i;

/**
 * The absolute path of a bundle named by one argument, or null. Relative
 * paths are resolved against `cwd`, the working directory the OS launched
 * the (first or second) instance in.
 */
export function acceptBundlePath(arg: unknown, cwd: string): string | null {
  if (typeof arg !== 'string' || arg === '' || arg.length > MAX_OPENED_PATH) return null;
  if (arg.startsWith('-') || arg.includes('\0') || URL_LIKE.test(arg)) return null;
  if (!BUNDLE_EXTENSION.test(arg)) return null;
  if (!isAbsolute(arg) && (typeof cwd !== 'string' || !isAbsolute(cwd))) return null;
  const path = resolve(cwd, arg);
  if (path.length > MAX_OPENED_PATH) return null;
  try {
    // stat follows a symlink: a link to a folder, a device or a FIFO is refused; a link to a bundle is fine.
    return statSync(path).isFile() ? path : null;
  } catch {
    return null;
  }
}

/**
 * The bundle named on a command line, or null. `argv[0]` is the executable;
 * `skip` names arguments that are the app itself (in development Electron
 * is started as `electron APP_PATH`). The first acceptable bundle wins.
 */
export function bundlePathFromArgv(argv: readonly unknown[], cwd: string, skip: readonly string[] = []): string | null {
  const own = new Set(skip.map((p) => resolve(cwd, p)));
  for (const arg of argv.slice(1)) {
    const path = acceptBundlePath(arg, cwd);
    if (path !== null && !own.has(path)) return path;
  }
  return null;
}

/**
 * The last bundle handed over and not yet shown. Main offers paths as they
 * arrive; the window takes the newest one when it asks (at start, and each
 * time main signals that another arrived). Taking empties it, so a reload
 * does not open the same file again.
 */
export class OpenedFile {
  private pending: string | null = null;

  offer(path: string | null): boolean {
    if (path === null) return false;
    this.pending = path;
    return true;
  }

  take(): string | null {
    const path = this.pending;
    this.pending = null;
    return path;
  }
}

/** The two app events that hand over files (Electron's `app`, or a fake in the tests). */
export interface FileHandoverEvents {
  on(event: 'second-instance', listener: (event: unknown, argv: string[], workingDirectory: string) => void): unknown;
  on(event: 'open-file', listener: (event: { preventDefault(): void }, path: string) => void): unknown;
}

export interface FileHandoverOptions {
  /** Arguments that are the app itself (see bundlePathFromArgv). */
  readonly ownPaths: readonly string[];
  /** This process's working directory, for a relative path in a macOS 'open-file' event. */
  readonly cwd: () => string;
  /**
   * Bring the window forward; `arrived` says a new bundle is waiting, so the
   * window must be told to ask for it. A second launch without a bundle only focuses.
   */
  readonly surface: (arrived: boolean) => void;
}

/**
 * Listens for bundles from a second launch (Windows, Linux) and from macOS
 * 'open-file' events (registered before 'ready', since the launch itself
 * may be one). Paths that are not acceptable bundles are dropped silently:
 * they are whatever someone put on a command line.
 */
export function listenForBundles(events: FileHandoverEvents, opened: OpenedFile, opts: FileHandoverOptions): void {
  events.on('second-instance', (_event, argv, workingDirectory) => {
    opts.surface(opened.offer(bundlePathFromArgv(Array.isArray(argv) ? argv : [], workingDirectory, opts.ownPaths)));
  });
  events.on('open-file', (event, path) => {
    // Handled here (or deliberately ignored): the OS must not try another app for it.
    event.preventDefault();
    if (opened.offer(acceptBundlePath(path, opts.cwd()))) opts.surface(true);
  });
}
