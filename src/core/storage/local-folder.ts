/**
 * Storage in a local folder (or a mounted drive). Layout:
 *   config, keys/<id>, data/<first two digits>/<id>, index/<id>, snapshots/<id>, locks/<id>
 * Writes go to a temporary file beside the target, are fsynced, renamed into
 * place and the directory fsynced, so a crash never exposes a partial object.
 */
import { constants as fsc, promises as fs } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { ChatsafeError, IntegrityError, UsageError } from '../errors.js';
import { writePartsFully } from './write-fully.js';
import {
  assertObjectName,
  isObjectName,
  MAX_OBJECT_BYTES,
  OBJECT_KINDS,
  objectPath,
  oversizedObject,
  totalLength,
  type ByteRange,
  type ObjectInfo,
  type ObjectKind,
  type RangeReader,
  type StorageBackend,
} from './backend.js';

const TMP_MARK = '.tmp-';
/** Objects a range reader keeps open: a restore alternates between the few packs one file's chunks are in. */
const OPEN_FILES = 8;

function checkRange(kind: ObjectKind, name: string, range: ByteRange): void {
  if (!(Number.isSafeInteger(range.offset) && Number.isSafeInteger(range.length) && range.offset >= 0 && range.length >= 0)) {
    throw new ChatsafeError('integrity', `storage: invalid byte range for ${kind}/${name}`);
  }
}

/** A range of an open file, into `into` when it is large enough; short at the end of the file. */
async function readRange(fh: fs.FileHandle, range: ByteRange, into?: Buffer): Promise<Buffer> {
  const buf = into && into.length >= range.length ? into.subarray(0, range.length) : Buffer.allocUnsafe(range.length);
  let got = 0;
  while (got < range.length) {
    const { bytesRead } = await fh.read(buf, got, range.length - got, range.offset + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return got === range.length ? buf : buf.subarray(0, got);
}

/** `readParts` of a file: one `preadv`, and the rest part by part if it came short before the end. */
async function readParts(fh: fs.FileHandle, offset: number, parts: readonly Buffer[]): Promise<number> {
  let got = (await fh.readv(parts as Buffer[], offset)).bytesRead;
  let skip = got;
  for (const part of parts) {
    if (skip >= part.length) {
      skip -= part.length;
      continue;
    }
    const rest = await readRange(fh, { offset: offset + got, length: part.length - skip }, part.subarray(skip));
    got += rest.length;
    if (rest.length < part.length - skip) break;
    skip = 0;
  }
  return got;
}

interface OpenFile {
  readonly handle: Promise<fs.FileHandle>;
  users: number;
  dropped: boolean;
}

/**
 * The last few objects read, kept open (least recently used goes first); a
 * file is closed once dropped and no read is using it.
 */
class OpenFiles implements RangeReader {
  private readonly files = new Map<string, OpenFile>();

  constructor(
    private readonly max: number,
    private readonly open: (name: string) => Promise<fs.FileHandle>,
    private readonly check: (name: string, range: ByteRange) => void,
  ) {}

  async read(name: string, range: ByteRange, into?: Buffer): Promise<Buffer> {
    this.check(name, range);
    return this.withFile(name, (fh) => readRange(fh, range, into));
  }

  async readParts(name: string, offset: number, parts: readonly Buffer[]): Promise<number> {
    this.check(name, { offset, length: totalLength(parts) });
    return this.withFile(name, (fh) => readParts(fh, offset, parts));
  }

  private async withFile<T>(name: string, use: (fh: fs.FileHandle) => Promise<T>): Promise<T> {
    let file = this.files.get(name);
    if (file) this.files.delete(name); // to the end: the most recently used
    else {
      const opened: OpenFile = { handle: this.open(name), users: 0, dropped: false };
      opened.handle.catch(() => this.drop(name, opened));
      file = opened;
    }
    this.files.set(name, file);
    for (const [old, f] of this.files) {
      if (this.files.size <= this.max) break;
      this.drop(old, f);
    }
    file.users++;
    try {
      return await use(await file.handle);
    } finally {
      file.users--;
      if (file.dropped && file.users === 0) closeQuietly(file);
    }
  }

  async close(): Promise<void> {
    for (const [name, f] of [...this.files]) this.drop(name, f);
  }

  private drop(name: string, f: OpenFile): void {
    if (this.files.get(name) === f) this.files.delete(name);
    if (f.dropped) return;
    f.dropped = true;
    if (f.users === 0) closeQuietly(f);
  }
}

function closeQuietly(f: OpenFile): void {
  f.handle.then((fh) => fh.close()).catch(() => undefined);
}

export class LocalFolderBackend implements StorageBackend {
  readonly location: string;
  /**
   * Sixteen alternating first backups of the 1 GiB export each, two against three: peaks 129-136
   * against 134-142 MiB, in 5.5-6.2 against 5.2-6.2 s (medians 5.6-5.7 and 5.6 in two series: at
   * most 2% slower, within this machine's noise); three of the 3 GiB export each, 146-148 against
   * 150-151 MiB. A pack is written, synced and renamed in milliseconds here, and a repository on a
   * memory file system, where the sync costs nothing, backed up no faster.
   */
  readonly packWritesAtOnce = 2;
  constructor(readonly root: string) {
    this.location = root;
  }

  private pathOf(kind: ObjectKind, name: string): string {
    assertObjectName(kind, name);
    if (kind === 'config') return join(this.root, 'config');
    if (kind === 'data') return join(this.root, 'data', name.slice(0, 2), name);
    return join(this.root, kind, name);
  }

  async create(): Promise<void> {
    try {
      await fs.mkdir(this.root, { recursive: true });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' || code === 'ENOTDIR') throw await this.notAFolder(e);
      if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
        throw new ChatsafeError('io', `Cannot create the repository folder ${this.root}: ${code}.`, 'Check that you may write there, or choose another folder for the repository.', { cause: e });
      }
      throw ioError(e, `creating ${this.root}`);
    }
    const existing = await fs.readdir(this.root);
    if (existing.includes('config')) {
      throw new ChatsafeError('conflict', `A repository already exists in ${this.root}.`, 'Choose an empty folder, or use the existing repository.');
    }
    if (existing.length > 0) {
      throw new ChatsafeError('conflict', `${this.root} is not empty.`, 'Choose an empty or new folder for the repository.');
    }
    for (const kind of OBJECT_KINDS) if (kind !== 'config') await fs.mkdir(join(this.root, kind), { recursive: true });
    await fsyncDir(this.root);
  }

  /**
   * `--repo` named a file, or a path through one: said as such, not as a storage failure
   * ("ENOTDIR … check that the repository folder is reachable").
   */
  private async notAFolder(e: unknown): Promise<ChatsafeError> {
    let file = this.root;
    while ((await fs.stat(file).catch(() => null)) === null && dirname(file) !== file) file = dirname(file);
    const st = await fs.stat(file).catch(() => null);
    if (!st || st.isDirectory()) return ioError(e, `opening ${this.root}`);
    return new UsageError(
      file === this.root ? `${file} is ${st.isFile() ? 'a file' : 'not a folder'}, so it cannot be a repository.` : `${this.root} cannot be a repository folder: ${file} is ${st.isFile() ? 'a file' : 'not a folder'}.`,
      'Give --repo the repository\'s folder (for `init`, a new or empty folder).',
    );
  }

  async stat(kind: ObjectKind, name: string): Promise<ObjectInfo | null> {
    const path = this.pathOf(kind, name);
    try {
      const st = await fs.stat(path);
      return { name, size: st.size };
    } catch (e) {
      if (isNotFound(e)) return null;
      if ((e as NodeJS.ErrnoException).code === 'ENOTDIR') throw await this.notAFolder(e);
      throw ioError(e, `reading ${kind}/${name}`);
    }
  }

  async *list(kind: ObjectKind): AsyncIterable<ObjectInfo> {
    if (kind === 'config') {
      const st = await this.stat('config', 'config');
      if (st) yield st;
      return;
    }
    const dir = join(this.root, kind);
    const dirs = kind === 'data' ? (await readdirOrEmpty(dir)).filter((d) => /^[0-9a-f]{2}$/.test(d)).map((d) => join(dir, d)) : [dir];
    for (const d of dirs) {
      for (const name of await readdirOrEmpty(d)) {
        if (!isObjectName(kind, name)) continue;
        try {
          const st = await fs.stat(join(d, name));
          if (st.isFile()) yield { name, size: st.size };
        } catch (e) {
          if (!isNotFound(e)) throw ioError(e, `listing ${kind}`);
        }
      }
    }
  }

  async read(kind: ObjectKind, name: string, range?: ByteRange, into?: Buffer): Promise<Buffer> {
    if (range) checkRange(kind, name, range);
    const { fh, size } = await this.openForReading(kind, name);
    try {
      if (range) return await readRange(fh, range, into);
      if (size > MAX_OBJECT_BYTES[kind]) throw oversizedObject(kind, name, size);
      return await readRange(fh, { offset: 0, length: size });
    } finally {
      await fh.close();
    }
  }

  rangeReader(kind: ObjectKind): Required<RangeReader> {
    return new OpenFiles(OPEN_FILES, async (name) => (await this.openForReading(kind, name)).fh, (name, range) => checkRange(kind, name, range));
  }

  /**
   * Opens an object that must be a regular file. Without O_NONBLOCK, opening a FIFO put in an
   * object's place waits for a writer that never comes, and no signal ends the wait; a device
   * (a link to `/dev/zero`) reads without end. Neither is anything a repository writes.
   */
  private async openForReading(kind: ObjectKind, name: string): Promise<{ fh: fs.FileHandle; size: number }> {
    const path = this.pathOf(kind, name);
    let fh: fs.FileHandle;
    try {
      fh = await fs.open(path, fsc.O_RDONLY | fsc.O_NONBLOCK);
    } catch (e) {
      if (isNotFound(e)) throw new ChatsafeError('not-found', `${kind}/${name} is missing from the repository.`, 'The repository is incomplete. Run `chatsafe check` to see what is affected.');
      if ((e as NodeJS.ErrnoException).code === 'ENOTDIR') throw await this.notAFolder(e);
      throw ioError(e, `reading ${kind}/${name}`);
    }
    try {
      const st = await fh.stat();
      if (!st.isFile()) throw new IntegrityError(objectPath(kind, name), 'is not a regular file (damaged, or not written by Chatsafe)');
      return { fh, size: st.size };
    } catch (e) {
      await fh.close();
      throw e instanceof ChatsafeError ? e : ioError(e, `reading ${kind}/${name}`);
    }
  }

  async write(kind: ObjectKind, name: string, data: Buffer | readonly Buffer[]): Promise<void> {
    const path = this.pathOf(kind, name);
    const dir = dirname(path);
    await fs.mkdir(dir, { recursive: true });
    const tmp = join(dir, `${TMP_MARK}${name}-${randomBytes(6).toString('hex')}`);
    try {
      const fh = await fs.open(tmp, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL, 0o600);
      try {
        await writePartsFully(fh.fd, Buffer.isBuffer(data) ? [data] : data);
        await fh.sync();
      } finally {
        await fh.close();
      }
      if (kind !== 'locks') {
        // link() refuses to replace an existing name, which gives immutability for free.
        try {
          await fs.link(tmp, path);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
            throw new ChatsafeError('conflict', `${kind}/${name} already exists in the repository.`);
          }
          throw e;
        }
        await fs.unlink(tmp);
      } else {
        await fs.rename(tmp, path);
      }
      await fsyncDir(dir);
    } catch (e) {
      await fs.rm(tmp, { force: true }).catch(() => undefined);
      if (e instanceof ChatsafeError) throw e;
      throw ioError(e, `writing ${kind}/${name}`);
    }
  }

  async remove(kind: ObjectKind, name: string): Promise<void> {
    const path = this.pathOf(kind, name);
    try {
      await fs.unlink(path);
    } catch (e) {
      if (!isNotFound(e)) throw ioError(e, `removing ${kind}/${name}`);
    }
  }

  async cleanup(): Promise<void> {
    const dirs = [this.root, ...OBJECT_KINDS.filter((k) => k !== 'config').map((k) => join(this.root, k))];
    for (const d of await readdirOrEmpty(join(this.root, 'data'))) dirs.push(join(this.root, 'data', d));
    for (const d of dirs) {
      for (const name of await readdirOrEmpty(d)) {
        if (name.startsWith(TMP_MARK)) await fs.rm(join(d, name), { force: true });
      }
    }
  }

  async close(): Promise<void> {}
}

async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return (await fs.readdir(dir)).sort();
  } catch (e) {
    if (isNotFound(e) || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return [];
    throw ioError(e, `listing ${dir}`);
  }
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await fs.open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

function isNotFound(e: unknown): boolean {
  return (e as NodeJS.ErrnoException)?.code === 'ENOENT';
}

function ioError(e: unknown, doing: string): ChatsafeError {
  const code = (e as NodeJS.ErrnoException)?.code;
  const hint =
    code === 'ENOSPC'
      ? 'The disk is full. Free some space and run the command again; nothing half-written was kept.'
      : code === 'EACCES' || code === 'EPERM'
        ? 'Check that you may read and write the repository folder.'
        : 'Check that the repository folder is reachable, then run the command again.';
  return new ChatsafeError('io', `Storage failed while ${doing}: ${code ?? (e as Error)?.message ?? String(e)}`, hint, { cause: e });
}
