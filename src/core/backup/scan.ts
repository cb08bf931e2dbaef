/**
 * The first pass of a backup: walks the sources without following symlinks
 * and counts what is there, so the second pass can show totals, a rate and
 * an ETA. Nothing is read but metadata. The calls are blocking (a thread-pool
 * round trip per entry costs ten times the call on an export of thousands of
 * media files); the walk yields to the event loop every few hundred entries
 * so cancellation and progress still get through.
 */
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, type BigIntStats } from 'node:fs';
import { basename, relative, resolve, sep } from 'node:path';
import { ChatsafeError, throwIfCancelled, UsageError } from '../errors.js';
import { MAX_SNAPSHOT_ENTRIES } from '../repo/tree.js';
import { walkTotals, type CountFiles } from '../importers/walk.js';

/**
 * What a backup keeps of an entry's metadata. A BigIntStats object takes
 * about 1 KiB of memory, and an export has tens of thousands of files;
 * this takes a quarter of that. Times and inode stay exact (strings).
 */
export interface EntryMeta {
  /** Permission bits only. */
  readonly mode: number;
  readonly size: number;
  readonly mtimeNs: string;
  readonly ctimeNs: string;
  readonly ino: string;
}

export function entryMeta(st: BigIntStats): EntryMeta {
  return { mode: Number(st.mode & 0o7777n), size: Number(st.size), mtimeNs: st.mtimeNs.toString(), ctimeNs: st.ctimeNs.toString(), ino: st.ino.toString() };
}

/**
 * One entry of a directory listing. Children carry no path of their own: a listing is read where
 * it is used, and the path is its directory's joined with the name.
 */
export type ScannedEntry =
  | { kind: 'file' | 'symlink' | 'dir'; name: string; stat: EntryMeta }
  | { kind: 'other'; name: string };

/** A source as given, resolved: the entry and where it is. */
export type ScannedRoot = ScannedEntry & { readonly path: string };

/** Files and bytes under a folder, whatever the depth. */
export interface FolderTotals {
  readonly files: number;
  readonly bytes: number;
}

/**
 * What a scan keeps: totals and a fingerprint, not the entries. The backup lists each folder
 * again as it reaches it (as restic's archiver does beside its scanner), so the memory a backup
 * holds for names and metadata is the current folders' listings, not the whole export: the
 * scan's tree took about 440 bytes a file on the main thread's heap, 9.7 MiB for the 22,127
 * files of the 3 GiB reference export.
 */
export interface ScanResult {
  readonly roots: ScannedRoot[];
  readonly files: number;
  readonly dirs: number;
  readonly bytes: number;
  /** Sockets, devices and FIFOs: not backed up, reported. */
  readonly skipped: string[];
  /**
   * SHA-256 over every entry's path, type, permission bits, size, times and inode, in walk order:
   * any change to the sources changes it. It covers everything a snapshot's tree records of an
   * entry (a symlink's target changes its inode and ctime: a link is replaced, never rewritten),
   * so a snapshot of the same fingerprint has this backup's tree (see `backupUnchanged`).
   */
  readonly fingerprint: string;
  /** Totals under each root and each folder in it, by absolute path (what source detection counts). */
  readonly folders: ReadonlyMap<string, FolderTotals>;
}

export async function scanSources(sources: readonly string[], signal?: AbortSignal): Promise<ScanResult> {
  if (sources.length === 0) throw new ChatsafeError('usage', 'Nothing to back up.', 'Name at least one file or folder.');
  const scan = new Scan(signal);
  const roots: ScannedRoot[] = [];
  const seen = new Map<string, string>();
  for (const src of sources) {
    // resolve('') is the working folder: an empty argument (an unset variable in a script) would
    // back up wherever the command was run, and retention would then drop the real backup.
    if (src === '') throw new ChatsafeError('usage', 'A source path is empty.', 'Name the files or folders to back up.');
    const path = resolve(src);
    const name = basename(path) || 'root';
    const other = seen.get(name);
    if (other !== undefined) {
      throw new ChatsafeError('usage', `Two sources have the same name "${name}": ${other} and ${path}.`, 'Back them up separately, or put them in one folder and back that up.');
    }
    seen.set(name, path);
    let stat: BigIntStats;
    try {
      stat = lstatSync(path, { bigint: true });
    } catch (e) {
      throw new ChatsafeError('not-found', `Cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}.`, 'Check the path you gave.');
    }
    const root = { ...scannedEntry(name, stat), path };
    // Stored as nothing, it made an empty snapshot, after which retention forgot the last real one.
    if (root.kind === 'other') throw new ChatsafeError('usage', `${path} is not a file, folder or link, so there is nothing in it to back up.`, 'Name the files or folders to back up.');
    roots.push(root);
    // The fingerprint's paths start from the root's own path joined with its name, as they always have.
    const totals = await scan.entry(root, path, `${path}/${name}`);
    scan.folders.set(path, totals);
  }
  return { roots, files: scan.files, dirs: scan.dirs, bytes: scan.bytes, skipped: scan.skipped, fingerprint: scan.hash.digest('hex'), folders: scan.folders };
}

/** A folder's entries, and how many names it listed (an entry gone since is left out). */
export interface FolderEntries extends Iterable<ScannedEntry> {
  readonly names: number;
}

/** The entries of a folder, sorted by name (UTF-16 code units, the order trees keep); entries gone since the listing are left out. */
export function listFolder(path: string): FolderEntries {
  let names: string[];
  try {
    names = readdirSync(path);
  } catch (e) {
    throw new ChatsafeError('io', `Cannot list ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}.`, 'Check that you may read this folder, then run the backup again.');
  }
  names.sort();
  return { names: names.length, [Symbol.iterator]: () => entriesOf(path, names) };
}

/**
 * Each entry is looked at as it is reached, not all first: a folder of thousands of files (11,345
 * thumbnails in the 3 GiB export) kept its entries, about 250 bytes each, until it ended.
 */
function* entriesOf(path: string, names: readonly string[]): Generator<ScannedEntry> {
  for (const name of names) {
    const childPath = childOf(path, name);
    let st: BigIntStats;
    try {
      st = lstatSync(childPath, { bigint: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue; // deleted while we looked
      throw new ChatsafeError('io', `Cannot read ${childPath}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}.`, 'Check that you may read it, then run the backup again.');
    }
    yield scannedEntry(name, st);
  }
}

/**
 * `join(dir, name)` for a resolved folder and a name from its listing, without normalizing the
 * result again: `path.join` took 23 ms of a 1 GiB export's unchanged backup, which lists 7,365
 * files twice (once to count, once to back up).
 */
export function childOf(dir: string, name: string): string {
  return dir.endsWith(sep) ? dir + name : `${dir}${sep}${name}`;
}

function scannedEntry(name: string, st: BigIntStats): ScannedEntry {
  if (st.isFile()) return { kind: 'file', name, stat: entryMeta(st) };
  if (st.isSymbolicLink()) return { kind: 'symlink', name, stat: entryMeta(st) };
  if (st.isDirectory()) return { kind: 'dir', name, stat: entryMeta(st) };
  return { kind: 'other', name };
}

const YIELD_EVERY = 256;

/** The first pass's running state: totals, the fingerprint and each folder's totals. */
class Scan {
  files = 0;
  dirs = 0;
  bytes = 0;
  readonly skipped: string[] = [];
  readonly hash = createHash('sha256');
  readonly folders = new Map<string, FolderTotals>();
  private seen = 0;

  constructor(private readonly signal: AbortSignal | undefined) {}

  /** Counts `e` (at `path`; `printed` is its path in the fingerprint) and everything under it. */
  async entry(e: ScannedEntry, path: string, printed: string): Promise<FolderTotals> {
    if (++this.seen % YIELD_EVERY === 0) await new Promise((r) => setImmediate(r));
    throwIfCancelled(this.signal);
    if (this.seen > MAX_SNAPSHOT_ENTRIES) {
      throw new UsageError(`The sources hold more than ${MAX_SNAPSHOT_ENTRIES.toLocaleString('en-US')} files and folders, more than one backup stores.`, 'Back up fewer folders at a time, each into its own repository.');
    }
    if (e.kind === 'other') {
      this.hash.update(`${printed}\0other\n`);
      this.skipped.push(path);
      return NOTHING;
    }
    this.hash.update(`${printed}\0${e.kind}\0${e.stat.mode}\0${e.stat.size}\0${e.stat.mtimeNs}\0${e.stat.ctimeNs}\0${e.stat.ino}\n`);
    if (e.kind === 'file') {
      this.files++;
      this.bytes += e.stat.size;
      return { files: 1, bytes: e.stat.size };
    }
    if (e.kind === 'symlink') return NOTHING;
    this.dirs++;
    let files = 0;
    let bytes = 0;
    for (const child of listFolder(path)) {
      const t = await this.entry(child, childOf(path, child.name), `${printed}/${child.name}`);
      files += t.files;
      bytes += t.bytes;
    }
    const totals = { files, bytes };
    this.folders.set(path, totals);
    return totals;
  }
}

const NOTHING: FolderTotals = { files: 0, bytes: 0 };

/**
 * File counts for source detection, read from a scan instead of walking the
 * export again; a path outside the scan is walked.
 */
export function countFilesIn(scan: ScanResult): CountFiles {
  return (path) => {
    const target = resolve(path);
    for (const root of scan.roots) {
      const rel = relative(root.path, target);
      if (rel.startsWith('..') || resolve(root.path, rel) !== target) continue;
      // Inside the scan but neither a root nor a folder: a file, a link, or nothing there.
      return { ...(scan.folders.get(target) ?? NOTHING), truncated: false };
    }
    return walkTotals(target);
  };
}
