/**
 * The index's rows, each blob's id and where it lies, kept in a temporary
 * file instead of memory.
 *
 * A chat database is stored page by page, so a repository holds hundreds of
 * thousands of blobs, and their rows (32 bytes of id and 13 of place each, in
 * memory) were most of what grew as an export grew: about 12 MiB at 3 GiB and
 * 25 MiB at 6 GiB, at every backup's highest moment. What memory keeps now is
 * the first four bytes of each id (`MasterIndex`'s tags) and the table over
 * them; a lookup whose tag matches reads the row back here to compare the
 * whole id, so a new chunk is still never taken for a stored one.
 *
 * Rows go in blocks of 64 (3 KiB). The last block is filled in memory
 * (`tail`, shared, so a backup's crypto workers read it where the main thread
 * writes it); a full one is appended to a file that is removed as soon as it
 * is opened, so nothing is left behind by a crash. Each reader keeps the last
 * blocks it read: lookups mostly come in row order (a chunk list's ids, a
 * restore's plan), or from a few runs of rows at once (a database's pages,
 * each stored by one of its backups), so most find their block already read.
 *
 * The file is not sealed, unlike the local index cache, which outlives the
 * run: it holds no content and no key (an id is a keyed hash, which tells
 * nothing of the chunk without the key; the rest is where each blob lies),
 * only this process (and the system's administrator) can reach it while it
 * exists, and a damaged row can only
 * make a stored chunk look new (a blob read from a wrong place fails to open
 * and is named). Sealed, every block read cost a cipher's setup, 7 us against
 * 1.3 for the read itself: an unchanged 3 GiB backup took 0.2 s longer, and
 * looking up every blob of its index out of order 1.8 s against 0.1 in memory.
 *
 * Only the main thread writes; workers read. A block is written before the
 * count of written blocks moves past it, and only then is the
 * tail filled again, so a reader that took a row from the tail checks the
 * count did not move meanwhile (and reads again if it did).
 */
import { closeSync, mkdirSync, openSync, unlinkSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ID_BYTES } from '../crypto/ids.js';
import { BLOB_TYPE_BY_CODE } from './blob.js';
import { readFullySync } from '../storage/read-fully.js';
import { writeFullySync } from '../storage/write-fully.js';

/** A row: id (32), offset (48 bits: 32 low, 16 high), type (1), a zero byte, stored length (4), plain length (4). */
export const ROW_BYTES = 48;
const OFFSET_LOW = 32;
const OFFSET_HIGH = 36;
const TYPE_AT = 38;
/** Always zero, so that a row read from elsewhere (the local cache) shows its layout. */
const SPARE_AT = 39;
const LENGTH_AT = 40;
const RAW_AT = 44;
/** Rows a block holds; a power of two, so a row's block is a shift away. */
export const BLOCK_ROWS = 64;
const BLOCK_SHIFT = 6;
const BLOCK_BYTES = BLOCK_ROWS * ROW_BYTES;
/** Blocks each reader keeps (384 KiB): runs of rows from this many places at once read each block once. */
const KEPT_BLOCKS = 128;
/** The most a row's offset may be: 48 bits. */
export const MAX_ROW_OFFSET = 2 ** 48 - 1;

/** The state slots of `RowStoreShare.state`. */
const WRITTEN = 0;
const FD = 1;

/** What a reader on another thread is handed: all of it stays valid while the store lives. */
export interface RowStoreShare {
  /** The rows of the block being filled. */
  readonly tail: SharedArrayBuffer;
  /** Int32: blocks written to the file, and its descriptor (-1 until the first block is written, and once closed). */
  readonly state: SharedArrayBuffer;
}

let storeDir: string | null = null;

/**
 * Where stores make their files: the user's cache folder when the caller knows it (the command
 * line and the app set it), else the system's temporary folder, which may be memory on some systems.
 */
export function useRowStoreDir(dir: string | null): void {
  storeDir = dir;
}

/** Reads rows on any thread. */
export class RowReader {
  private readonly state: Int32Array;
  private readonly tail: Buffer;
  /** Blocks read, least recently used first, each in a buffer the next block read reuses once it is the oldest. */
  private readonly kept = new Map<number, Buffer>();
  private lastNo = -1;
  private last: Buffer | null = null;

  constructor(share: RowStoreShare) {
    this.state = new Int32Array(share.state);
    this.tail = Buffer.from(share.tail);
  }

  /** Whether `row` holds the id at `bytes[at, at + 32)`. */
  holdsId(row: number, bytes: Uint8Array, at: number): boolean {
    const block = row >>> BLOCK_SHIFT;
    const o = rowAt(row);
    for (;;) {
      const written = Atomics.load(this.state, WRITTEN);
      if (block < written) return sameIdAt(this.block(block), o, bytes, at);
      const same = sameIdAt(this.tail, o, bytes, at);
      // The block was written and the tail filled again meanwhile: read it from the file instead.
      if (Atomics.load(this.state, WRITTEN) === written) return same;
    }
  }

  /**
   * The bytes holding `row`, at `rowAt(row)`: valid until the next call. Only for the thread that
   * writes the store (a tail row read elsewhere could be overwritten meanwhile).
   */
  rowBytes(row: number): Buffer {
    const block = row >>> BLOCK_SHIFT;
    return block < Atomics.load(this.state, WRITTEN) ? this.block(block) : this.tail;
  }

  /** A written block, read (or kept from before). */
  private block(no: number): Buffer {
    if (no === this.lastNo) return this.last!;
    let open = this.kept.get(no);
    if (open) this.kept.delete(no);
    else {
      if (this.kept.size >= KEPT_BLOCKS) {
        const oldest = this.kept.keys().next().value!;
        open = this.kept.get(oldest)!;
        this.kept.delete(oldest);
      } else open = Buffer.allocUnsafeSlow(BLOCK_BYTES);
      this.read(no, open);
    }
    this.kept.set(no, open);
    this.lastNo = no;
    this.last = open;
    return open;
  }

  /** Reads block `no` into `into`. */
  private read(no: number, into: Buffer): void {
    const fd = Atomics.load(this.state, FD);
    if (fd < 0) throw new Error("the index's rows are no longer available (its store was closed)");
    if (!readFullySync(fd, into, BLOCK_BYTES, no * BLOCK_BYTES)) {
      throw new Error(`the index's rows could not be read back from their temporary file (block ${no} is cut short): the disk may be failing; run the command again`);
    }
  }
}

/** The offset of `row` in the bytes `RowReader.rowBytes` gives for it. */
export function rowAt(row: number): number {
  return (row & (BLOCK_ROWS - 1)) * ROW_BYTES;
}

/** A row's fields, read from `bytes` at `at` (see `rowBytes`). */
export function rowType(bytes: Uint8Array, at: number): number {
  return bytes[at + TYPE_AT]!;
}

/** Whether `bytes[at, at + 48)` has a row's layout: a known blob type and its zero byte. */
export function rowIsWellFormed(bytes: Uint8Array, at: number): boolean {
  return BLOB_TYPE_BY_CODE[bytes[at + TYPE_AT]!] !== undefined && bytes[at + SPARE_AT] === 0;
}

export function rowOffset(bytes: Buffer, at: number): number {
  return bytes.readUInt32LE(at + OFFSET_LOW) + bytes.readUInt16LE(at + OFFSET_HIGH) * 2 ** 32;
}

export function rowLength(bytes: Buffer, at: number): number {
  return bytes.readUInt32LE(at + LENGTH_AT);
}

export function rowRawLength(bytes: Buffer, at: number): number {
  return bytes.readUInt32LE(at + RAW_AT);
}

/** Writes rows (the main thread only), and reads them as `RowReader` does. */
export class RowStore {
  readonly share: RowStoreShare;
  readonly reader: RowReader;
  private readonly state: Int32Array;
  private readonly tail: Buffer;
  private count = 0;

  constructor() {
    this.share = { tail: new SharedArrayBuffer(BLOCK_BYTES), state: new SharedArrayBuffer(8) };
    this.state = new Int32Array(this.share.state);
    this.state[FD] = -1;
    this.tail = Buffer.from(this.share.tail);
    this.reader = new RowReader(this.share);
  }

  get rows(): number {
    return this.count;
  }

  /** Adds a row; the id is `id[idAt, idAt + 32)`. */
  append(id: Uint8Array, idAt: number, type: number, offset: number, length: number, rawLength: number): void {
    if (!(offset >= 0 && offset <= MAX_ROW_OFFSET)) throw new RangeError(`a blob offset of ${offset} is past what the index holds`);
    const o = rowAt(this.count);
    copyBytes(id, idAt, this.tail, o, ID_BYTES);
    this.tail.writeUInt32LE(offset % 2 ** 32, o + OFFSET_LOW);
    this.tail.writeUInt16LE(Math.floor(offset / 2 ** 32), o + OFFSET_HIGH);
    this.tail[o + TYPE_AT] = type;
    this.tail[o + SPARE_AT] = 0;
    this.tail.writeUInt32LE(length, o + LENGTH_AT);
    this.tail.writeUInt32LE(rawLength, o + RAW_AT);
    this.added();
  }

  /** Adds a row as another store holds it (`bytes[at, at + 48)`, from `rowBytes`), or as the local cache does. */
  appendRow(bytes: Uint8Array, at: number): void {
    copyBytes(bytes, at, this.tail, rowAt(this.count), ROW_BYTES);
    this.added();
  }

  /**
   * `RowReader.rowBytes` through the store, so that whoever reads rows this way keeps the store,
   * and its file, alive (the file is closed once the store is collected).
   */
  rowBytes(row: number): Buffer {
    return this.reader.rowBytes(row);
  }

  /** Lets go of the file; the rows can no longer be read. */
  close(): void {
    closeState(this.share.state);
  }

  /** Counts the row just put in the tail, once the tail is written out if it is full (a failed write counts nothing). */
  private added(): void {
    if (((this.count + 1) & (BLOCK_ROWS - 1)) === 0) this.writeTail();
    this.count++;
  }

  /** Appends the full tail to the file, before the count of written blocks moves past it. */
  private writeTail(): void {
    const no = Atomics.load(this.state, WRITTEN);
    try {
      writeFullySync(this.fd(), this.tail, BLOCK_BYTES, no * BLOCK_BYTES);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new Error(`the index's temporary file in ${storeDir ?? tmpdir()} could not be written${code ? ` (${code})` : ''}: free some disk space there and run the command again`, { cause: e });
    }
    Atomics.store(this.state, WRITTEN, no + 1);
  }

  private fd(): number {
    const open = Atomics.load(this.state, FD);
    if (open >= 0) return open;
    const fd = openRemoved(storeDir) ?? openRemoved(tmpdir());
    if (fd === null) throw new Error(`the index needs a temporary file and none could be made in ${storeDir ?? tmpdir()}: free some disk space or check that folder's permissions`);
    Atomics.store(this.state, FD, fd);
    closeOnCollect.register(this, this.share.state);
    return fd;
  }
}

/** A new file in `dir`, removed at once (only its descriptor refers to it), or null when none could be made. */
function openRemoved(dir: string | null): number | null {
  if (dir === null) return null;
  const path = join(dir, `.chatsafe-index-rows-${randomBytes(8).toString('hex')}`);
  let fd: number;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    fd = openSync(path, 'wx+', 0o600);
  } catch {
    return null;
  }
  try {
    unlinkSync(path);
  } catch {
    // A system that cannot remove an open file removes it when it closes.
  }
  return fd;
}

/** Closes a store's file once nothing refers to the store any more, when `close` was not called. */
const closeOnCollect = new FinalizationRegistry<SharedArrayBuffer>(closeState);

function closeState(state: SharedArrayBuffer): void {
  const fd = Atomics.exchange(new Int32Array(state), FD, -1);
  if (fd >= 0) closeSync(fd);
}

/** Byte by byte: a view to copy from, for every row added, was 13 MB of garbage as a 3 GiB index loaded. */
function copyBytes(from: Uint8Array, at: number, to: Uint8Array, toAt: number, n: number): void {
  for (let i = 0; i < n; i++) to[toAt + i] = from[at + i]!;
}

/** Whether the ids at `a[ao]` and `b[bo]` are the same, without a view of either (`crypto/ids.ts`'s `sameBytes` compares whole arrays). */
function sameIdAt(a: Uint8Array, ao: number, b: Uint8Array, bo: number): boolean {
  for (let i = 0; i < ID_BYTES; i++) if (a[ao + i] !== b[bo + i]) return false;
  return true;
}
