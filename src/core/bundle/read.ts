/**
 * Reading bundles: the cleartext header without a key (inspect, support),
 * and with the key a verified plaintext stream for restore and check. Every
 * byte handed on was authenticated; all sizes and paths in the payload are
 * validated as hostile input.
 */
import { constants as fsc, promises as fs } from 'node:fs';
import { hkdf, LABELS } from '../crypto/subkeys.js';
import { ChatsafeError, IntegrityError, isChatsafeError, throwIfCancelled, UsageError } from '../errors.js';
import { decodeConfig } from '../repo/config.js';
import { decompressInto, FLAG_STORED, FLAG_ZSTD } from '../repo/compression.js';
import { unlockMasterKey, type Credential, type RepoHeader, type VaultUnlocker } from '../repo/repository.js';
import { SafeName } from '../repo/tree.js';
import { MAX_DATA_BLOB_BYTES } from '../repo/blob.js';
import { decodeHeader, ManifestSchema, MAX_HEADER_BYTES, RECORD, type BundleEntry, type BundleHeader, type Manifest } from './format.js';
import { SegmentOpener, SEGMENT_BYTES } from './stream-aead.js';
import { TAG_BYTES } from '../crypto/aead.js';

const MAX_MANIFEST_BYTES = 256 * 1024 * 1024;

export interface BundleInfo {
  readonly path: string;
  readonly header: BundleHeader;
  readonly headerHash: Buffer;
  readonly payloadOffset: number;
  readonly fileSize: number;
  readonly segments: number;
}

export async function readBundleInfo(path: string): Promise<BundleInfo> {
  let fh: fs.FileHandle;
  try {
    // Not blocking: a FIFO given as the bundle would wait for a writer, past any signal.
    fh = await fs.open(path, fsc.O_RDONLY | fsc.O_NONBLOCK);
  } catch (e) {
    throw new ChatsafeError('not-found', `Cannot open ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}.`, 'Check the path of the .chatsafe file.');
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new UsageError(`${path} is not a file.`, 'Give the path of a .chatsafe file.');
    const { size } = st;
    const prefix = Buffer.alloc(Math.min(size, MAX_HEADER_BYTES + 64));
    await fh.read(prefix, 0, prefix.length, 0);
    const { header, hash, payloadOffset } = decodeHeader(prefix, path);
    const payload = size - payloadOffset;
    if (payload < TAG_BYTES) throw new IntegrityError(path, 'the bundle is truncated (no encrypted payload)');
    const segments = Math.ceil(payload / (SEGMENT_BYTES + TAG_BYTES));
    return { path, header, headerHash: hash, payloadOffset, fileSize: size, segments };
  } finally {
    await fh.close();
  }
}

/**
 * The repository header the bundle carries. Its errors name the bundle: said of `config`, with a
 * repository's advice, they sent people looking for a repository they never gave.
 */
export function bundleRepoHeader(info: BundleInfo): RepoHeader {
  try {
    const { config, hash } = decodeConfig(Buffer.from(info.header.repository, 'base64'));
    return { config, configHash: hash, slots: info.header.slots, unreadableSlots: [] };
  } catch (e) {
    if (!isChatsafeError(e)) throw e;
    if (e.kind === 'unsupported') {
      throw new ChatsafeError('unsupported', `${info.path} was exported from a repository of a newer format than this Chatsafe reads.`, e.hint, { cause: e });
    }
    throw new IntegrityError(info.path, 'the repository header inside the bundle is damaged');
  }
}

/** Which entry and field a manifest's first problem is in; zod's own message may quote a hostile key. */
function where(path: readonly PropertyKey[] | undefined): string {
  const [top, i, field] = path ?? [];
  if (top !== 'entries' || typeof i !== 'number') return '';
  return ` (entry ${i + 1}${typeof field === 'string' && /^[a-zA-Z]{1,16}$/.test(field) ? `, ${field}` : ''})`;
}

/**
 * What makes a manifest's entries unfit to restore, or null. As in a tree, every path is safe
 * component by component and listed once, and a folder comes before what it holds: a path listed
 * twice, or under a file, a link or a folder not listed, made the restore fail half-way.
 */
function entriesProblem(entries: readonly BundleEntry[]): string | null {
  const paths = new Set<string>();
  const dirs = new Set<string>();
  for (const [i, e] of entries.entries()) {
    if (!e.path.split('/').every((c) => SafeName.safeParse(c).success)) return `has an unsafe path (entry ${i + 1})`;
    if (paths.has(e.path)) return `lists a path twice (entry ${i + 1})`;
    const slash = e.path.lastIndexOf('/');
    if (slash >= 0 && !dirs.has(e.path.slice(0, slash))) return `lists entry ${i + 1} before the folder it is in`;
    paths.add(e.path);
    if (e.type === 'dir') dirs.add(e.path);
  }
  return null;
}

/** Sealed bytes read at a time. */
const READ_BYTES = 4 * SEGMENT_BYTES;

/**
 * Authenticated plaintext of a bundle, read front to back. It moves through buffers that are
 * reused (the read buffer, the segment opener's, a decompression buffer) and the cipher's pieces:
 * read into a new 4 MiB buffer each time, gathered with a copy of everything queued for each
 * segment and block, restoring a 1 GiB bundle took 29 s (17 of them in the kernel, first touching
 * the pages of new buffers).
 */
export class BundlePayload {
  /** Authenticated plaintext not yet read, in the opener's pieces. */
  private queue: Buffer[] = [];
  private queued = 0;
  private pos: number;
  private finished = false;
  private readonly opener: SegmentOpener;
  private readonly readBuffer: Buffer;
  /** Where a compressed block is decompressed, grown as needed (see `content`). */
  private decoded = Buffer.alloc(0);

  private constructor(
    private readonly fh: fs.FileHandle,
    private readonly info: BundleInfo,
    key: Buffer,
    private readonly signal?: AbortSignal,
  ) {
    this.pos = info.payloadOffset;
    this.opener = new SegmentOpener(key, Buffer.from(info.header.noncePrefix, 'base64'), info.headerHash, info.path);
    this.readBuffer = Buffer.allocUnsafe(Math.min(READ_BYTES, info.fileSize - info.payloadOffset));
  }

  static async open(info: BundleInfo, credential: Credential, vaultUnlocker?: VaultUnlocker, signal?: AbortSignal): Promise<BundlePayload> {
    const mk = await unlockMasterKey(bundleRepoHeader(info), credential, vaultUnlocker);
    const key = hkdf(mk, Buffer.from(info.header.salt, 'base64'), LABELS.bundle);
    mk.fill(0);
    return new BundlePayload(await fs.open(info.path, fsc.O_RDONLY | fsc.O_NONBLOCK), info, key, signal);
  }

  private async fill(): Promise<boolean> {
    if (this.finished) return false;
    throwIfCancelled(this.signal);
    const want = Math.min(this.readBuffer.length, this.info.fileSize - this.pos);
    if (want <= 0) {
      this.push(this.opener.final());
      this.finished = true;
      return true;
    }
    const { bytesRead } = await this.fh.read(this.readBuffer, 0, want, this.pos);
    if (bytesRead === 0) throw new IntegrityError(this.info.path, 'the bundle changed while it was being read');
    this.pos += bytesRead;
    // The opener keeps no view of the read buffer, which the next fill reads into again.
    this.push(this.opener.push(this.readBuffer.subarray(0, bytesRead)));
    return true;
  }

  private push(pieces: Buffer[]): void {
    for (const b of pieces) {
      if (b.length === 0) continue;
      this.queue.push(b);
      this.queued += b.length;
    }
  }

  /** The next `n` bytes: a view where one piece holds them, else a copy. */
  async readExact(n: number): Promise<Buffer> {
    while (this.queued < n) {
      if (!(await this.fill())) throw new IntegrityError(this.info.path, 'the bundle payload ends too early');
    }
    const first = this.queue[0];
    if (first !== undefined && first.length >= n) return this.consume(n);
    const out = Buffer.allocUnsafe(n);
    for (let at = 0; at < n; ) {
      const piece = this.consume(Math.min(n - at, this.queue[0]!.length));
      out.set(piece, at);
      at += piece.length;
    }
    return out;
  }

  /** The next `n` bytes as the pieces that hold them, without copying. */
  private async *pieces(n: number): AsyncGenerator<Buffer> {
    for (let left = n; left > 0; ) {
      if (this.queued === 0 && !(await this.fill())) throw new IntegrityError(this.info.path, 'the bundle payload ends too early');
      if (this.queue.length === 0) continue;
      const piece = this.consume(Math.min(left, this.queue[0]!.length));
      left -= piece.length;
      yield piece;
    }
  }

  /** The first `n` bytes of the first queued piece (which holds at least that many). */
  private consume(n: number): Buffer {
    const first = this.queue[0]!;
    if (n === first.length) this.queue.shift();
    else this.queue[0] = first.subarray(n);
    this.queued -= n;
    return first.subarray(0, n);
  }

  /** Confirms nothing follows the end record (and that the last segment was flagged last). */
  async expectEnd(): Promise<void> {
    while (!this.finished) await this.fill();
    if (this.queued !== 0) throw new IntegrityError(this.info.path, 'unexpected data after the end of the bundle');
  }

  async readRecord(type: number, limit: number): Promise<Buffer> {
    const h = await this.readExact(5);
    if (h[0] !== type) throw new IntegrityError(this.info.path, `unexpected record type ${h[0]} (expected ${type})`);
    const len = h.readUInt32BE(1);
    if (len > limit) throw new IntegrityError(this.info.path, 'a record is larger than allowed');
    return Buffer.from(await this.readExact(len));
  }

  async readManifest(): Promise<Manifest> {
    let json: unknown;
    try {
      json = JSON.parse((await this.readRecord(RECORD.manifest, MAX_MANIFEST_BYTES)).toString('utf8'));
    } catch (e) {
      if (e instanceof ChatsafeError) throw e;
      throw new IntegrityError(this.info.path, 'the manifest is not valid JSON');
    }
    const parsed = ManifestSchema.safeParse(json);
    if (!parsed.success) throw new IntegrityError(this.info.path, `the manifest is malformed${where(parsed.error.issues[0]?.path)}`);
    const problem = entriesProblem(parsed.data.entries);
    if (problem !== null) throw new IntegrityError(this.info.path, `the manifest ${problem}`);
    return parsed.data;
  }

  /**
   * Yields a file's content, decompressed, until `size` bytes: a stored block in the pieces it
   * was opened in, a compressed one whole. Each piece is valid only until the next is asked for.
   */
  async *content(size: number): AsyncGenerator<Buffer> {
    let n = 0;
    while (n < size) {
      const h = await this.readExact(9);
      const raw = h.readUInt32BE(0);
      const stored = h.readUInt32BE(4);
      const flag = h[8]!;
      if (raw === 0 || raw > MAX_DATA_BLOB_BYTES || stored > MAX_DATA_BLOB_BYTES + 64 || n + raw > size) throw new IntegrityError(this.info.path, 'a content block has an impossible size');
      if (flag === FLAG_STORED) {
        if (stored !== raw) throw new IntegrityError(this.info.path, `length ${stored} differs from the recorded ${raw}`);
        yield* this.pieces(stored);
      } else if (flag === FLAG_ZSTD) {
        const body = await this.readExact(stored);
        if (this.decoded.length < raw) this.decoded = Buffer.allocUnsafe(Math.max(raw, Math.min(2 * this.decoded.length, MAX_DATA_BLOB_BYTES)));
        const plain = this.decoded.subarray(0, raw);
        decompressInto(body, plain, this.info.path);
        yield plain;
      } else throw new IntegrityError(this.info.path, 'unknown payload encoding');
      n += raw;
    }
  }

  async readEnd(entries: number): Promise<void> {
    const body = await this.readRecord(RECORD.end, 4);
    if (body.length !== 4 || body.readUInt32BE(0) !== entries) throw new IntegrityError(this.info.path, 'the end record does not match the manifest');
    await this.expectEnd();
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}
