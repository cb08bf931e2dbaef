/**
 * Storage in a local folder (or a mounted drive). Layout:
 *   config, keys/<id>, data/<first two digits>/<id>, index/<id>, snapshots/<id>, locks/<id>
 * Writes go to a temporary file beside the target, are fsynced, renamed into
 * place and the directory fsynced, so a crash never exposes a partial object.
 */
import { constants as fsc, promises as fs } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { ChatsafeError } from '../errors.js';
import {
  assertObjectName,
  isObjectName,
  OBJECT_KINDS,
  type ByteRange,
  type ObjectInfo,
  type ObjectKind,
  type StorageBackend,
} from './backend.js';

const TMP_MARK = '.tmp-';

export class LocalFolderBackend implements StorageBackend {
  readonly location: string;
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
    await fs.mkdir(this.root, { recursive: true });
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

  async stat(kind: ObjectKind, name: string): Promise<ObjectInfo | null> {
    const path = this.pathOf(kind, name);
    try {
      const st = await fs.stat(path);
      return { name, size: st.size };
    } catch (e) {
      if (isNotFound(e)) return null;
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
    const path = this.pathOf(kind, name);
    if (range && !(Number.isSafeInteger(range.offset) && Number.isSafeInteger(range.length) && range.offset >= 0 && range.length >= 0)) {
      throw new ChatsafeError('integrity', `storage: invalid byte range for ${kind}/${name}`);
    }
    let fh: fs.FileHandle;
    try {
      fh = await fs.open(path, 'r');
    } catch (e) {
      if (isNotFound(e)) throw new ChatsafeError('not-found', `${kind}/${name} is missing from the repository.`, 'The repository is incomplete. Run `chatsafe check` to see what is affected.');
      throw ioError(e, `reading ${kind}/${name}`);
    }
    try {
      if (!range) return await fh.readFile();
      const buf = into && into.length >= range.length ? into.subarray(0, range.length) : Buffer.allocUnsafe(range.length);
      let got = 0;
      while (got < range.length) {
        const { bytesRead } = await fh.read(buf, got, range.length - got, range.offset + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      return got === range.length ? buf : buf.subarray(0, got);
    } finally {
      await fh.close();
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
        await writeFully(fh, Buffer.isBuffer(data) ? [data] : data);
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

/** Writes every byte or throws: a short write (a full disk) must never pass as success. */
async function writeFully(fh: fs.FileHandle, parts: readonly Buffer[]): Promise<void> {
  let position = 0;
  for (const part of parts) {
    let off = 0;
    while (off < part.length) {
      const { bytesWritten } = await fh.write(part, off, part.length - off, position);
      if (bytesWritten <= 0) throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
      off += bytesWritten;
      position += bytesWritten;
    }
  }
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
