/**
 * Writes restored files into a target folder, safely:
 * - never outside the target: every name was validated as a single path
 *   component, and existing symlinks on the way are never followed;
 * - never over existing files unless asked (checked for every path before
 *   anything is written);
 * - a file appears under its name only once all of it was authenticated and
 *   written, so a failure leaves no partial file. Into a target that is new
 *   or empty, everything is written inside one hidden folder there, and its
 *   top-level entries are moved into place at the end (`finish`), or after a
 *   failure those complete by then (`salvage`). Into a folder that holds
 *   files already, each file is written under a temporary name beside its
 *   own and renamed. A rename per file was a sixth of a restore's main
 *   thread, most of it waiting for the folder's lock while the thread pool
 *   created the next files there.
 * File system calls are blocking on purpose: a chat export is thousands of
 * small files, and a thread-pool round trip per write, chmod, utimes, close
 * and rename cost more than the writes. Decryption goes on in the crypto
 * workers meanwhile. Creating the files is one exception (`FileOpener`);
 * the bytes of large files, written past the page cache, are the other
 * (`direct-writes.ts`).
 */
import { chmodSync, closeSync, constants as fsc, fchmodSync, futimesSync, lstatSync, lutimesSync, mkdirSync, open, opendirSync, openSync, readdirSync, renameSync, rmdirSync, rmSync, statfsSync, symlinkSync, utimesSync, type StatsFs } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, join, resolve, sep } from 'node:path';
import { ChatsafeError, isChatsafeError, UsageError } from '../errors.js';
import { formatBytes } from '../importers/format.js';
import { DIRECT_MIN_BYTES, DIRECT_OPEN_FLAGS, DirectFile, DirectStages, openForDirectWrites, openForDirectWritesSync } from './direct-writes.js';
import { writeFullySync } from '../storage/write-fully.js';

export interface PlannedEntry {
  readonly relPath: string; // components joined with '/'
  readonly type: 'file' | 'dir' | 'symlink';
}

export class TargetWriter {
  readonly root: string;
  /** The hidden folder everything is written in, when the target was new or empty (`prepare`); else null. */
  private staging: string | null = null;
  private readonly dirTimes: Array<{ relPath: string; mode: number; mtimeNs: string }> = [];
  /** Folders already seen not to be symlinks. */
  private readonly checkedDirs = new Set<string>();
  /**
   * Temporary names are this restore's random prefix and a count: a random name for each of
   * thousands of files cost a call to the system's random source each. O_EXCL refuses any clash.
   */
  private readonly tempPrefix = randomBytes(6).toString('hex');
  private tempCount = 0;
  /** Made at the first large file (`direct-writes.ts`). */
  private stages: DirectStages | null = null;

  constructor(
    target: string,
    private readonly overwrite: boolean,
  ) {
    this.root = resolve(target);
  }

  /** Where `relPath` is written: in the hidden folder while there is one, else in the target. */
  private abs(relPath: string, base = this.staging ?? this.root): string {
    const p = join(base, ...relPath.split('/'));
    if (p !== base && !p.startsWith(base + sep)) throw new ChatsafeError('integrity', `refusing to restore outside the target: ${relPath}`);
    return p;
  }

  /** Checks every planned path before anything is written; creates the target folder. */
  async prepare(entries: readonly PlannedEntry[]): Promise<void> {
    const created = makeTargetFolder(this.root);
    // Nothing can be in the way in a folder just made or found empty: the usual restore skips a
    // look at each of thousands of paths, and writes in a hidden folder there.
    if (created !== undefined || isEmptyFolder(this.root)) {
      const staging = join(this.root, `.chatsafe-restoring-${this.tempPrefix}`);
      mkdirSync(staging, { mode: 0o700 });
      this.staging = staging;
      return;
    }
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

  /**
   * Refuses a restore into a new or empty target whose disk has less free space than the files
   * take, before anything is written: found only at the first refused write, a restore of gigabytes
   * failed after minutes. A target that holds files already is not measured (what `--overwrite`
   * replaces frees its space only as each file is moved into place).
   */
  ensureRoom(bytes: number): void {
    if (this.staging === null) return;
    let fs: StatsFs;
    try {
      fs = statfsSync(this.root);
    } catch {
      return; // not measurable here: the writes will tell
    }
    // Some network and FUSE mounts report no size at all; refusing there would refuse every restore.
    if (fs.blocks === 0) return;
    const free = fs.bavail * fs.bsize;
    if (free >= bytes) return;
    throw new ChatsafeError('io', `The restore needs ${formatBytes(bytes)}, but the disk holding ${this.root} has ${formatBytes(free)} free.`, 'Free some space there, or restore into a folder on another disk. Nothing was written.');
  }

  async mkdir(relPath: string, mode: number, mtimeNs: string): Promise<void> {
    const p = this.abs(relPath);
    this.assertNoSymlinkOnTheWay(p);
    mkdirSync(p, { recursive: true, mode: 0o700 });
    this.dirTimes.push({ relPath, mode, mtimeNs });
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

  /** Creates the temporary file for `relPath`, of `size` bytes once written. */
  beginFile(relPath: string, size: number): RestoringFile {
    const { path, tmp } = this.tempFor(relPath);
    const fd = openSync(tmp, TEMP_FLAGS, 0o600);
    const stages = this.directStagesFor(size);
    return this.restoringFile(path, tmp, fd, stages, stages && openForDirectWritesSync(tmp));
  }

  /** Like `beginFile`, with the file created (and opened for direct writes) on the thread pool. */
  async openFile(relPath: string, size: number): Promise<RestoringFile> {
    // Named and checked at once, in restore order; created on the thread pool.
    const { path, tmp } = this.tempFor(relPath);
    const stages = this.directStagesFor(size);
    const fd = await new Promise<number>((resolve, reject) => open(tmp, TEMP_FLAGS, 0o600, (err, fd) => (err ? reject(err) : resolve(fd))));
    return this.restoringFile(path, tmp, fd, stages, stages && (await openForDirectWrites(tmp)));
  }

  /**
   * The file, written direct where it has `stages` and its `direct` descriptor. A file system
   * without direct writes refuses the open: the page cache serves the rest of the restore.
   */
  private restoringFile(path: string, tmp: string, fd: number, stages: DirectStages | null, direct: number | null): RestoringFile {
    if (stages && direct === null) stages.usable = false;
    return new RestoringFile(path, tmp, fd, stages && direct !== null ? new DirectFile(stages, direct, fd) : null);
  }

  /** The stages a file of `size` bytes is written direct through, or null to write it through the page cache. */
  private directStagesFor(size: number): DirectStages | null {
    if (size < DIRECT_MIN_BYTES || DIRECT_OPEN_FLAGS === null || this.stages?.usable === false) return null;
    return (this.stages ??= new DirectStages());
  }

  /** In the hidden folder a file is written under its own name; beside others, under a temporary one. */
  private tempFor(relPath: string): { path: string; tmp: string } {
    const path = this.abs(relPath);
    this.assertNoSymlinkOnTheWay(path);
    if (this.staging) return { path, tmp: path };
    return { path, tmp: join(dirname(path), `.chatsafe-restoring-${this.tempPrefix}-${(this.tempCount++).toString(36)}`) };
  }

  /**
   * Moves what was restored into place, then sets folder modes and times
   * (writing into a folder, or moving one, changes its times), deepest first.
   */
  async finish(): Promise<void> {
    await this.moveIntoPlace();
    this.setFolderModesAndTimes(0);
  }

  /**
   * Deepest first: a folder's own mode may take away the access its contents need. `ownerBits`
   * are added to every mode.
   */
  private setFolderModesAndTimes(ownerBits: number): void {
    for (let i = this.dirTimes.length - 1; i >= 0; i--) {
      const d = this.dirTimes[i]!;
      const p = this.abs(d.relPath);
      chmodSync(p, restoredMode(d.mode) | ownerBits);
      const t = nsToSeconds(d.mtimeNs);
      utimesSync(p, t, t);
    }
  }

  /**
   * A file the target already holds with the snapshot's bytes (`already-restored.ts`) gets the
   * snapshot's mode and time instead of being written again.
   */
  keep(relPath: string, mode: number, mtimeNs: string): void {
    const p = this.abs(relPath, this.root);
    this.assertNoSymlinkOnTheWay(p);
    const fd = openSync(p, fsc.O_RDONLY | fsc.O_NOFOLLOW);
    try {
      setModeAndTime(fd, mode, mtimeNs);
    } finally {
      closeSync(fd);
    }
  }

  /**
   * After a failure or a cancel: moves the files completed so far into place,
   * as a restore without the hidden folder leaves them, and gives the folders
   * made so far their modes and times (made 0700, they would stay so, with
   * the time of the restore). The owner keeps the right to write in them, so
   * that the same restore run again can finish (a folder the backup has
   * read-only gets its mode then). Call it once every file being written was
   * committed or aborted. Never throws: the failure that led here is the one
   * to report.
   */
  async salvage(): Promise<void> {
    try {
      await this.moveIntoPlace();
    } catch {
      // What could not be moved stays in the hidden folder; the failure that led here is reported.
    }
    try {
      this.setFolderModesAndTimes(0o700);
    } catch {
      // A folder that cannot take its mode keeps 0700: nothing is exposed, and the failure is reported.
    }
  }

  /**
   * The hidden folder's top-level entries, moved into the target, which was
   * empty when the restore began: anything that appeared there since is left
   * alone, and what would have replaced it stays in the hidden folder.
   */
  private async moveIntoPlace(): Promise<void> {
    const staging = this.staging;
    if (!staging) return;
    const blocked: string[] = [];
    try {
      for (const name of readdirSync(staging)) {
        const to = join(this.root, name);
        if (lstatSync(to, { throwIfNoEntry: false })) blocked.push(to);
        else await renamePatiently(join(staging, name), to);
      }
    } catch (e) {
      throw new ChatsafeError('io', `The restored files could not be moved from ${staging} into ${this.root}: ${(e as Error).message}`, 'They are complete in that folder: move them where you want them, or restore again into an empty folder.', { cause: e });
    }
    if (blocked.length > 0) {
      throw new ChatsafeError('conflict', `${blocked.join(', ')} appeared in the target during the restore; the restored ${blocked.length === 1 ? 'copy is' : 'copies are'} in ${staging}.`, 'Move them where you want them, or restore again into an empty folder.');
    }
    rmdirSync(staging);
    this.staging = null;
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
 * On Windows a rename fails while another program holds a file inside what
 * is moved, as virus scanners do for a moment with files just written: such
 * failures are tried again, for about thirteen seconds in all.
 */
async function renamePatiently(from: string, to: string): Promise<void> {
  for (let wait = 50; ; wait *= 2) {
    try {
      renameSync(from, to);
      return;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (process.platform !== 'win32' || !(code === 'EPERM' || code === 'EACCES' || code === 'EBUSY') || wait > 6400) throw e;
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}

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
    private readonly files: ReadonlyArray<{ readonly relPath: string; readonly size: number }>,
    private readonly ahead: number,
  ) {}

  /** The next file's temporary file, in the order of `files`. */
  take(): Promise<RestoringFile> {
    while (this.opening.length < this.ahead && this.next < this.files.length) {
      const f = this.files[this.next++]!;
      const p = this.writer.openFile(f.relPath, f.size);
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
    for (const f of await Promise.allSettled(left)) if (f.status === 'fulfilled') await f.value.abort();
  }
}

export class RestoringFile {
  written = 0;
  private open = true;
  /**
   * `fd`: the file through the page cache (modes, times, and what direct writes cannot take);
   * `direct`: the same file's direct writes, for a large file where the file system takes them.
   */
  constructor(
    private readonly finalPath: string,
    private readonly tmpPath: string,
    private readonly fd: number,
    private readonly direct: DirectFile | null,
  ) {}

  /** Through the page cache, written when this returns; direct, on its way (`commit` waits for it). */
  write(data: Uint8Array): void | Promise<void> {
    const at = this.written;
    this.written += data.length;
    if (this.direct) return this.direct.write(data);
    writeFullySync(this.fd, data, data.length, at);
  }

  async commit(mode: number, mtimeNs: string): Promise<void> {
    await this.direct?.end();
    setModeAndTime(this.fd, mode, mtimeNs);
    this.close();
    if (this.tmpPath !== this.finalPath) renameSync(this.tmpPath, this.finalPath);
  }

  /** Removes the file, once no write of it is on its way. */
  async abort(): Promise<void> {
    try {
      await this.direct?.settle();
      this.close();
    } catch {
      // Already failing; the temp file goes either way.
    }
    rmSync(this.tmpPath, { force: true });
  }

  private close(): void {
    if (!this.open) return;
    this.open = false;
    try {
      this.direct?.close();
    } finally {
      closeSync(this.fd);
    }
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

/**
 * Nanosecond strings to the seconds utimes wants. A double of today's seconds
 * resolves about a quarter of a microsecond, and the microsecond itself often
 * falls just below the whole value (….823 s became ….822999954), which moved a
 * restored file's time into the microsecond and millisecond before: aimed at
 * the middle of the microsecond, it lands inside it. Times before 1970 keep
 * the plain conversion.
 */
export function nsToSeconds(ns: string): number {
  const micros = Number(BigInt(ns) / 1000n);
  return (micros >= 0 ? micros + 0.5 : micros) / 1e6;
}

/**
 * The permission bits a restore sets: all a backup recorded but setuid and setgid. A backup or
 * bundle can come from someone else (support sends one back, a crafted one arrives by mail), and
 * restored as root those bits would make any program in it run as root for every local user.
 * Chat exports never need them.
 */
function restoredMode(mode: number): number {
  return mode & ~SETUID_SETGID;
}
const SETUID_SETGID = 0o6000;

/** A restored file's recorded mode (`restoredMode`) and modification time, set on its open descriptor. */
function setModeAndTime(fd: number, mode: number, mtimeNs: string): void {
  fchmodSync(fd, restoredMode(mode));
  const t = nsToSeconds(mtimeNs);
  futimesSync(fd, t, t);
}

/** Calls on an open file that only a restore's target receives (pack files are only read). */
const TARGET_FD_CALLS: ReadonlySet<string> = new Set(['write', 'writev', 'fchmod', 'futime', 'fsync', 'ftruncate', 'close']);

/**
 * A failure of the target's file system as the error people see: what failed, and what to do.
 * Anything else (a pack that could not be read, an error of the restore itself) is returned as it
 * is: a system error counts as the target's when it names a path inside it, or, naming none, when
 * it came from a call only the target receives.
 */
export function targetError(e: unknown, root: string): unknown {
  const err = e as NodeJS.ErrnoException | null;
  if (isChatsafeError(e) || typeof err?.code !== 'string' || typeof err.syscall !== 'string') return e;
  const inTarget = typeof err.path === 'string' ? err.path === root || err.path.startsWith(root + sep) : TARGET_FD_CALLS.has(err.syscall);
  if (!inTarget) return e;
  const code = err.code;
  const hint =
    code === 'ENOSPC' || code === 'EDQUOT'
      ? 'The disk is full. Free some space there, or restore into a folder on another disk; only whole files were kept.'
      : code === 'EACCES' || code === 'EPERM' || code === 'EROFS'
        ? 'Check that you may write to that folder, or restore into another one.'
        : 'Check that the folder is reachable, then restore again; only whole files were kept.';
  return new ChatsafeError('io', `Writing the restored files into ${root} failed: ${code}.`, hint, { cause: e });
}

/** The target folder, made if need be; a target that is a file, or cannot be made, said in terms of --target. */
function makeTargetFolder(root: string): string | undefined {
  try {
    return mkdirSync(root, { recursive: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new UsageError(`${root} is a file; the restore target must be a folder.`, 'Give --target a new or existing folder.');
    if (code === 'ENOTDIR') throw new UsageError(`${root} cannot be a folder: a part of that path is a file.`, 'Give --target a new or existing folder.');
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') throw new ChatsafeError('io', `Cannot create the folder ${root}: ${code}.`, 'Check that you may write there, or restore into another folder.', { cause: e });
    throw e;
  }
}
