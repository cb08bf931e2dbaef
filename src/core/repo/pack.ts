/**
 * Pack files: many sealed blobs in one storage object, because cloud storage
 * dislikes millions of small objects. Layout:
 *   sealed blob 1 || … || sealed blob n || sealed header || header length (u32 LE)
 * The header lists, in order, each blob's type, id, sealed length and raw
 * length (offsets follow by summing), so the index can be rebuilt from packs
 * alone. A pack is named by the SHA-256 of its bytes.
 */
import { aadOf, AuthenticationFailed, open, seal, sealInto, SEAL_OVERHEAD } from '../crypto/aead.js';
import { CDC_PARAMS } from '../chunking/fastcdc.js';
import { ID_BYTES } from '../crypto/ids.js';
import { IntegrityError } from '../errors.js';
import { BLOB_TYPE_BY_CODE, BLOB_TYPES, blobPayload, maxRawLength, sealedBlobBound, sealedPayloadLength, sealPayloadInto, type BlobType } from './blob.js';

const HEADER_LABEL = 'chatsafe/v1/pack-header';
const ENTRY_BYTES = 1 + ID_BYTES + 4 + 4;
/** A header for more blobs than this is rejected as hostile. */
const MAX_PACK_ENTRIES = 1 << 20;

export interface PackEntry {
  readonly type: BlobType;
  readonly id: Buffer;
  readonly offset: number;
  readonly length: number; // sealed length in the pack
  readonly rawLength: number; // plaintext length
}

/** Collects sealed blobs in memory until the pack is full; `finish` returns the parts to store. */
export class PackBuilder {
  readonly parts: Buffer[] = [];
  readonly entries: PackEntry[] = [];
  size = 0;

  add(type: BlobType, id: Buffer, sealed: Buffer, rawLength: number): void {
    this.entries.push({ type, id, offset: this.size, length: sealed.length, rawLength });
    this.parts.push(sealed);
    this.size += sealed.length;
  }

  get count(): number {
    return this.entries.length;
  }

  finish(metaKey: Buffer): Buffer[] {
    const header = Buffer.allocUnsafe(this.entries.length * ENTRY_BYTES);
    this.entries.forEach((e, i) => writeEntry(header, i, e.type, e.id, e.length, e.rawLength));
    const sealedHeader = seal(metaKey, aadOf(HEADER_LABEL), header);
    const trailer = Buffer.allocUnsafe(4);
    trailer.writeUInt32LE(sealedHeader.length);
    return [...this.parts, sealedHeader, trailer];
  }
}

/**
 * The buffer a pack is assembled in: the target size, which the header must
 * fit in too, or room for one largest chunk with its header if that is more.
 * A pack is closed before a blob that would not fit, so it never outgrows
 * its buffer (the buffer used to leave room for one largest chunk past the
 * target: 12 MiB for an 8 MiB pack, and a backup keeps four or five of them).
 * With a 4 MiB target the two are nearly the same: the buffer is one largest
 * chunk's room, 102 bytes over 4 MiB.
 */
export function packBufferBytes(target: number): number {
  return Math.max(target, sealedBlobBound(CDC_PARAMS.max) + sealedHeaderBytes(1) + 4);
}

/** Bytes of a pack that holds one blob of `rawLength` bytes and nothing else, at most. */
export function singleBlobPackBytes(rawLength: number): number {
  return sealedBlobBound(rawLength) + sealedHeaderBytes(1) + 4;
}

/** Bytes of the sealed header of a pack of `count` blobs. */
function sealedHeaderBytes(count: number): number {
  return count * ENTRY_BYTES + SEAL_OVERHEAD;
}

/** A finished pack as `PackAssembler` hands it over: the bytes to store, and its plain header. */
export interface AssembledPack {
  /** The pack is the first `length` bytes of this buffer. */
  readonly buffer: ArrayBuffer;
  readonly length: number;
  /** The plain header (ENTRY_BYTES per blob), for the index; decode with `decodePackEntries`. */
  readonly entries: ArrayBuffer;
}

/**
 * Builds a pack in one buffer, sealing each blob straight into place, so a
 * backup allocates one buffer per pack rather than one per blob (tens of
 * thousands of SQLite pages would otherwise keep the garbage collector busy).
 * Runs in the crypto workers. The caller asks `fits` before each `add` and
 * finishes the pack when the blob does not fit.
 */
export class PackAssembler {
  private readonly bufferBytes: number;
  /**
   * Taken when the pack's first blob comes, not when the last pack is finished: at the end of a
   * backup no blob comes, and a buffer taken then was 4 MiB more at its last and highest moment
   * (the catalog being stored, with every pool full).
   */
  private buf: Buffer | null = null;
  private header: Buffer;
  private size = 0;
  private count = 0;

  /**
   * `spare` hands out a buffer of `packBufferBytes(target)` bytes to reuse, if it has one.
   * With `startBytes`, each pack starts in a buffer that small and doubles as blobs come, up to
   * the full size: for directory listings, which in most backups fill a fraction of one pack,
   * and would otherwise hold a full pack buffer through the whole run.
   */
  constructor(
    target: number,
    private readonly spare: () => ArrayBuffer | undefined = () => undefined,
    private readonly startBytes?: number,
  ) {
    this.bufferBytes = packBufferBytes(target);
    this.header = Buffer.allocUnsafeSlow(1024 * ENTRY_BYTES);
  }

  get blobs(): number {
    return this.count;
  }

  /** Bytes of sealed blobs in the pack so far. */
  get bytes(): number {
    return this.size;
  }

  /**
   * Whether this pack holds a blob larger than a pack buffer (only a huge directory listing can
   * be): the caller finishes it at once, or the outsized buffer would stay through the backup,
   * filling slowly with later listings.
   */
  get oversized(): boolean {
    return this.buf !== null && this.buf.length > this.bufferBytes;
  }

  /**
   * Whether a blob of `rawLength` bytes fits in this pack with the header
   * behind it. An empty pack takes any blob: one larger than the buffer
   * (only a huge directory listing can be) gets a buffer of its own size.
   */
  fits(rawLength: number): boolean {
    return this.count === 0 || this.size + this.roomFor(sealedBlobBound(rawLength)) <= Math.max(this.bufferBytes, this.buf!.length);
  }

  /** Bytes past the blobs so far that one more blob, `sealedLength` bytes sealed, needs: itself, then the header and its length. */
  private roomFor(sealedLength: number): number {
    return sealedLength + sealedHeaderBytes(this.count + 1) + 4;
  }

  /** Seals one blob into the pack. */
  add(dataKey: Buffer, type: BlobType, id: Uint8Array, data: Uint8Array, compress: boolean): void {
    if (!this.fits(data.length)) throw new RangeError('PackAssembler.add: the blob does not fit; finish the pack first');
    const payload = blobPayload(type, data, compress);
    const length = sealedPayloadLength(payload);
    const buf = this.reserve(this.roomFor(length));
    sealPayloadInto(buf, this.size, dataKey, type, id, payload);
    if ((this.count + 1) * ENTRY_BYTES > this.header.length) {
      const bigger = Buffer.allocUnsafeSlow(this.header.length * 2);
      this.header.copy(bigger, 0, 0, this.count * ENTRY_BYTES);
      this.header = bigger;
    }
    writeEntry(this.header, this.count, type, id, length, data.length);
    this.size += length;
    this.count++;
  }

  /** Seals the header behind the blobs and hands the pack over; the assembler starts a new one. */
  finish(metaKey: Buffer): AssembledPack {
    const buf = this.buf;
    if (buf === null || this.count === 0) throw new RangeError('PackAssembler.finish: the pack is empty');
    const plain = this.header.subarray(0, this.count * ENTRY_BYTES);
    const headerLength = sealInto(buf, this.size, metaKey, aadOf(HEADER_LABEL), plain);
    buf.writeUInt32LE(headerLength, this.size + headerLength);
    const length = this.size + headerLength + 4;
    const entries = new Uint8Array(plain).buffer; // a copy: the header buffer is reused
    const done: AssembledPack = { buffer: buf.buffer as ArrayBuffer, length, entries };
    this.buf = null;
    this.size = 0;
    this.count = 0;
    return done;
  }

  private newBuffer(): Buffer {
    if (this.startBytes !== undefined && this.startBytes < this.bufferBytes) return Buffer.allocUnsafeSlow(this.startBytes);
    const ab = this.spare();
    return ab && ab.byteLength === this.bufferBytes ? Buffer.from(ab) : Buffer.allocUnsafeSlow(this.bufferBytes);
  }

  /**
   * Makes room for `bytes` more and returns the buffer. The pack's first blob takes one: a spare,
   * or a small one for listings, or one of its own size for a blob larger than any pack buffer
   * (only a huge directory listing can be). A buffer that started small doubles up to the full size.
   */
  private reserve(bytes: number): Buffer {
    const need = this.size + bytes;
    if (this.buf === null) this.buf = need > this.bufferBytes ? Buffer.allocUnsafeSlow(need) : this.newBuffer();
    if (need <= this.buf.length) return this.buf;
    const bigger = Buffer.allocUnsafeSlow(need > this.bufferBytes ? need : Math.min(this.bufferBytes, Math.max(need, this.buf.length * 2)));
    this.buf.copy(bigger, 0, 0, this.size);
    return (this.buf = bigger);
  }
}

/** Header entry `i`: type, id, sealed length, raw length. */
function writeEntry(header: Buffer, i: number, type: BlobType, id: Uint8Array, length: number, rawLength: number): void {
  const o = i * ENTRY_BYTES;
  header[o] = BLOB_TYPES[type];
  header.set(id, o + 1);
  header.writeUInt32LE(length, o + 1 + ID_BYTES);
  header.writeUInt32LE(rawLength, o + 5 + ID_BYTES);
}

/** Where the sealed header sits, from the pack's last four bytes. */
export function headerRange(packSize: number, trailer: Buffer, object: string): { offset: number; length: number } {
  if (packSize < 4 + SEAL_OVERHEAD || trailer.length !== 4) throw new IntegrityError(object, 'pack is too short (truncated?)');
  const length = trailer.readUInt32LE(0);
  if (length < SEAL_OVERHEAD || length > packSize - 4 || (length - SEAL_OVERHEAD) % ENTRY_BYTES !== 0) {
    throw new IntegrityError(object, 'pack header length is impossible (truncated or damaged)');
  }
  return { offset: packSize - 4 - length, length };
}

export function parsePackHeader(metaKey: Buffer, sealedHeader: Buffer, headerOffset: number, object: string): PackEntry[] {
  let header: Buffer;
  try {
    header = open(metaKey, aadOf(HEADER_LABEL), sealedHeader);
  } catch (e) {
    if (e instanceof AuthenticationFailed) throw new IntegrityError(object, 'pack header fails authentication');
    throw e;
  }
  const entries = decodePackEntries(header, headerOffset, object);
  const last = entries[entries.length - 1];
  if ((last ? last.offset + last.length : 0) !== headerOffset) throw new IntegrityError(object, 'pack header does not account for every byte of the pack');
  return entries;
}

/** What `forEachPackEntry` hands over for entry `i`; its id is `header[idAt, idAt + ID_BYTES)`. */
export type PackEntryVisitor = (i: number, type: BlobType, idAt: number, offset: number, length: number, rawLength: number) => void;

/** How many entries a plain pack header holds; throws when its size cannot be a header's. */
export function packEntryCount(header: Uint8Array, object: string): number {
  const count = header.byteLength / ENTRY_BYTES;
  if (!Number.isInteger(count) || count > MAX_PACK_ENTRIES) throw new IntegrityError(object, 'pack header is malformed');
  return count;
}

/**
 * Walks the entries of a plain pack header in order, checking each (blobs must end before
 * `limit`, the header's offset), without an object per entry, and returns how many there are.
 */
export function forEachPackEntry(header: Uint8Array, limit: number, object: string, each: PackEntryVisitor): number {
  const buf = Buffer.from(header.buffer, header.byteOffset, header.byteLength);
  const count = packEntryCount(header, object);
  let offset = 0;
  for (let i = 0; i < count; i++) {
    const o = i * ENTRY_BYTES;
    const type = BLOB_TYPE_BY_CODE[buf[o]!];
    const length = buf.readUInt32LE(o + 1 + ID_BYTES);
    const rawLength = buf.readUInt32LE(o + 5 + ID_BYTES);
    if (!type || length < SEAL_OVERHEAD + 1 || rawLength > maxRawLength(type) || offset + length > limit) {
      throw new IntegrityError(object, `pack header entry ${i} is malformed`);
    }
    each(i, type, o + 1, offset, length, rawLength);
    offset += length;
  }
  return count;
}

/** The entries of a plain pack header, as objects; blobs must end before `limit` (the header's offset). */
export function decodePackEntries(header: Uint8Array, limit: number, object: string): PackEntry[] {
  const entries: PackEntry[] = [];
  forEachPackEntry(header, limit, object, (_i, type, idAt, offset, length, rawLength) => {
    entries.push({ type, id: Buffer.from(header.subarray(idAt, idAt + ID_BYTES)), offset, length, rawLength });
  });
  return entries;
}
