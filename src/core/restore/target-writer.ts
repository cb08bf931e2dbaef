/**
 * Writes restored files into a target folder, safely:
 * - never outside the target: every name was validated as a single path
 *   component, and existing symlinks on the way are never followed;
 * - never over existing files unless asked (checked for every path before
 *   anything is written);
 * - a file appears under its name only once all of it was authenticated and
 *   written (temp name, then rename), so a failure leaves no partial file.
 * File system calls are blocking on purpose: a chat export is thousands of
 * small files, and a thread-pool round trip per write, chmod, utimes, close
 * and rename cost more than the writes. Decryption goes on in the crypto
 * workers meanwhile. Creating the files is the exception (`FileOpener`).
 */
import { chmodSync, closeSync, constants as fsc, fchmodSync, futimesSync, lstatSync, lutimesSync, mkdirSync, open, opendirSync, openSync, renameSync, rmSync, symlinkSync, utimesSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, join, resolve, sep } from 'node:path';
import { ChatsafeError } from '../errors.js';

export interface PlannedEntry {
  readonly relPath: string; // components joined with '/'
  readonly type: 'file' | 'dir' | 'symlink';
}

export class TargetWriter {
  readonly root: string;
  private readonly dirTimes: Array<{ path: string; mode: number; mtimeNs: string }> = [];
  /** Folders already seen not to be symlinks. */
  private readonly checkedDirs = new Set<string>();
  /**
   * Temporary names are this restore's random prefix and a count: a random name for each of
   * thousands of files cost a call to the system's random source each. O_EXCL refuses any clash.
   */
  private readonly tempPrefix = randomBytes(6).toString('hex');
  private tempCount = 0;

  constructor(
    target: string,
    private readonly overwrite: boolean,
  ) {
    this.root = resolve(target);
  }

  private abs(relPath: string): string {
    const p = join(this.root, ...relPath.split('/'));
    if (p !== this.root && !p.startsWith(this.root + sep)) throw new ChatsafeError('integrity', `refusing to restore outside the target: ${relPath}`);
    return p;
  }

  /** Checks every planned path before anything is written; creates the target folder. */
  async prepare(entries: readonly PlannedEntry[]): Promise<void> {
    const created = mkdirSync(this.root, { recursive: true });
    // Nothing can be in the way in a folder just made or found empty: the usual restore skips a
    // look at each of thousands of paths.
    if (created !== undefined || isEmptyFolder(this.root)) return;
    const conflicts: string[] = [];
    for (const e of entries) {
      const st = lstatSync(this.abs(e.relPath), { throwIfNoEntry: false });
      if (!st) continue;
      if (e.type === 'dir' && st.isDirectory()) continue;
      if (st.isDirectory() && e.type !== 'dir') {
        throw new ChatsafeError('conflict', `${this.abs(e.relPath)} is a folder, but the backup has a ${e.type} there.`, 'Restore into an empty folder.');
      }
      if (e.type === 'dir' && !st.isDirectory()) {
        throw new ChatsafeError('conflict', `${this.abs(e.relPath)} exists and is not a folder, but the backup has a folder there.`, 'Restore into an empty folder.');
      }
      conflicts.push(this.abs(e.relPath));
    }
    if (conflicts.length > 0 && !this.overwrite) {
      const list = conflicts.slice(0, 5).join(', ') + (conflicts.length > 5 ? ` and ${conflicts.length - 5} more` : '');
      throw new ChatsafeError('conflict', `${conflicts.length} file(s) already exist in the target: ${list}.`, 'Restore into an empty folder, or add --overwrite to replace them.');
    }
  }

  async mkdir(relPath: string, mode: number, mtimeNs: string): Promise<void> {
    const p = this.abs(relPath);
    this.assertNoSymlinkOnTheWay(p);
    mkdirSync(p, { recursive: true, mode: 0o700 });
    this.dirTimes.push({ path: p, mode, mtimeNs });
  }

  async symlink(relPath: string, target: string, mtimeNs: string): Promise<void> {
    const p = this.abs(relPath);
    this.assertNoSymlinkOnTheWay(p);
    if (this.overwrite) rmSync(p, { force: true });
    symlinkSync(target, p);
    const t = nsToSeconds(mtimeNs);
    try {
      lutimesSync(p, t, t);
    } catch {
      // Not every file system keeps a link's own times; the link itself is what matters.
    }
  }

  beginFile(relPath: string): RestoringFile {
    const { path, tmp } = this.tempFor(relPath);
    return new RestoringFile(path, tmp, openSync(tmp, TEMP_FLAGS, 0o600));
  }

  /** Like `beginFile`, with the file created on the thread pool. */
  openFile(relPath: string): Promise<RestoringFile> {
    const { path, tmp } = this.tempFor(relPath);
    return new Promise((resolve, reject) => open(tmp, TEMP_FLAGS, 0o600, (err, fd) => (err ? reject(err) : resolve(new RestoringFile(path, tmp, fd)))));
  }

  private tempFor(relPath: string): { path: string; tmp: string } {
    const path = this.abs(relPath);
    this.assertNoSymlinkOnTheWay(path);
    return { path, tmp: join(dirname(path), `.chatsafe-restoring-${this.tempPrefix}-${(this.tempCount++).toString(36)}`) };
  }

  /** Sets folder modes and times last (writing into a folder changes its mtime), deepest first. */
  async finish(): Promise<void> {
    for (const d of this.dirTimes.reverse()) {
      chmodSync(d.path, d.mode);
      const t = nsToSeconds(d.mtimeNs);
      utimesSync(d.path, t, t);
    }
  }

  /**
   * Refuses to write through a symlink that exists in the target (it could
   * point anywhere). Each folder is looked at once: the ones checked are
   * remembered, since files are restored folder by folder.
   */
  private assertNoSymlinkOnTheWay(p: string): void {
    let dir = dirname(p);
    while (dir.length > this.root.length && !this.checkedDirs.has(dir)) {
      const st = lstatSync(dir, { throwIfNoEntry: false });
      if (st?.isSymbolicLink()) {
        throw new ChatsafeError('conflict', `${dir} is a symbolic link; refusing to restore through it.`, 'Restore into an empty folder.');
      }
      if (st) this.checkedDirs.add(dir);
      dir = dirname(dir);
    }
  }
}

const TEMP_FLAGS = fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW;

/**
 * Creates the temporary files of the next few files, in restore order, on
 * the thread pool while the current one is written. Creating a file is the
 * most expensive call of a restore (an inode allocation: 0.2 ms a file on
 * ext4 after many deletions, where a write of a whole small file takes a
 * tenth of that), and done in line it kept the writer waiting 1.5 s for a
 * 1 GiB export of 7,365 files. `close` removes the files opened but not taken.
 */
export class FileOpener {
  private readonly opening: Array<Promise<RestoringFile>> = [];
  private next = 0;

  constructor(
    private readonly writer: TargetWriter,
    private readonly relPaths: readonly string[],
    private readonly ahead: number,
  ) {}

  /** The next file's temporary file, in the order of `relPaths`. */
  take(): Promise<RestoringFile> {
    while (this.opening.length < this.ahead && this.next < this.relPaths.length) {
      const p = this.writer.openFile(this.relPaths[this.next++]!);
      p.catch(() => {}); // awaited by take or close; not an unhandled rejection meanwhile
      this.opening.push(p);
    }
    const p = this.opening.shift();
    if (!p) throw new Error('FileOpener: every file was taken');
    return p;
  }

  /** Waits for the opens in flight and removes what they created. */
  async close(): Promise<void> {
    const left = this.opening.splice(0);
    for (const f of await Promise.allSettled(left)) if (f.status === 'fulfilled') f.value.abort();
  }
}

export class RestoringFile {
  written = 0;
  private open = true;
  constructor(
    private readonly finalPath: string,
    private readonly tmpPath: string,
    private readonly fd: number,
  ) {}

  write(data: Uint8Array): void {
    let off = 0;
    while (off < data.length) off += writeSync(this.fd, data, off, data.length - off, this.written + off);
    this.written += data.length;
  }

  commit(mode: number, mtimeNs: string): void {
    fchmodSync(this.fd, mode);
    const t = nsToSeconds(mtimeNs);
    futimesSync(this.fd, t, t);
    this.close();
    renameSync(this.tmpPath, this.finalPath);
  }

  abort(): void {
    try {
      this.close();
    } catch {
      // Already failing; the temp file goes either way.
    }
    rmSync(this.tmpPath, { force: true });
  }

  private close(): void {
    if (!this.open) return;
    this.open = false;
    closeSync(this.fd);
  }
}

function isEmptyFolder(path: string): boolean {
  const dir = opendirSync(path);
  try {
    return dir.readSync() === null;
  } finally {
    dir.closeSync();
  }
}

/** Nanosecond strings to the seconds utimes wants (microsecond precision survives a double). */
export function nsToSeconds(ns: string): number {
  const big = BigInt(ns);
  return Number(big / 1000n) / 1e6;
}
