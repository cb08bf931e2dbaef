/**
 * The blobs a crypto worker opens in one call, described as flat arrays.
 */
import { ID_BYTES } from '../crypto/ids.js';
import { BLOB_TYPES, type BlobType } from '../repo/blob.js';

/** One blob inside a buffer of adjacent sealed blobs (offsets relative to that buffer). */
export interface BatchBlob {
  readonly type: BlobType;
  /** 32 bytes, or 64 hex digits (as the index lists it). */
  readonly id: Uint8Array | string;
  readonly offset: number;
  readonly length: number;
  readonly rawLength: number;
}

/**
 * The blobs of one batch as flat arrays, which a message copies in one piece
 * each: a database restored page by page is a thousand blobs a batch, and an
 * object (with its own id buffer) per blob cost more to send than to open.
 */
export interface BatchBlobs {
  /** `BLOB_TYPES` codes. */
  readonly types: Uint8Array;
  /** 32 bytes a blob. */
  readonly ids: Uint8Array;
  /** offset, sealed length and plaintext length of each blob, in turn. */
  readonly spans: Uint32Array;
  /** Which of the request's objects (packs) each blob was read from, for messages. */
  readonly sources: Uint16Array;
}

/** Packs a list of blobs for a batch; a pack is far below 4 GiB, so offsets fit 32 bits. */
export class BatchBuilder {
  private n = 0;
  private types: Uint8Array;
  private ids: Uint8Array;
  private spans: Uint32Array;
  private sources: Uint16Array;

  constructor(capacity = 64) {
    this.types = new Uint8Array(capacity);
    this.ids = new Uint8Array(capacity * ID_BYTES);
    this.spans = new Uint32Array(capacity * 3);
    this.sources = new Uint16Array(capacity);
  }

  get count(): number {
    return this.n;
  }

  /** `id`: the blob's 32 bytes, or 64 hex digits; `source`: the index of its object in the request. */
  add(type: BlobType, id: Uint8Array | string, offset: number, length: number, rawLength: number, source = 0): void {
    if (typeof id !== 'string') {
      if (id.length !== ID_BYTES) throw new Error(`a blob id must be ${ID_BYTES} bytes`);
      return this.addFrom(type, id, 0, offset, length, rawLength, source);
    }
    if (this.n === this.types.length) this.grow();
    if (Buffer.from(this.ids.buffer, this.ids.byteOffset + this.n * ID_BYTES, ID_BYTES).write(id, 'hex') !== ID_BYTES) throw new Error(`a blob id must be ${ID_BYTES} bytes`);
    this.place(type, offset, length, rawLength, source);
  }

  /**
   * `add` with the id at `idAt` in `ids`: a restore takes a file's ids from its chunk list's bytes,
   * where a view for each id was most of its main thread's garbage (72,000 per GiB restored).
   */
  addFrom(type: BlobType, ids: Uint8Array, idAt: number, offset: number, length: number, rawLength: number, source = 0): void {
    if (idAt < 0 || idAt + ID_BYTES > ids.length) throw new Error(`a blob id must be ${ID_BYTES} bytes`);
    if (this.n === this.types.length) this.grow();
    // Byte by byte: a view to copy from would be the garbage this method avoids.
    const to = this.ids;
    for (let i = 0, at = this.n * ID_BYTES; i < ID_BYTES; i++) to[at + i] = ids[idAt + i]!;
    this.place(type, offset, length, rawLength, source);
  }

  private place(type: BlobType, offset: number, length: number, rawLength: number, source: number): void {
    this.types[this.n] = BLOB_TYPES[type];
    this.spans[this.n * 3] = offset;
    this.spans[this.n * 3 + 1] = length;
    this.spans[this.n * 3 + 2] = rawLength;
    this.sources[this.n] = source;
    this.n++;
  }

  build(): BatchBlobs {
    return { types: this.types.subarray(0, this.n), ids: this.ids.subarray(0, this.n * ID_BYTES), spans: this.spans.subarray(0, this.n * 3), sources: this.sources.subarray(0, this.n) };
  }

  private grow(): void {
    const cap = this.types.length * 2;
    const types = new Uint8Array(cap);
    types.set(this.types);
    const ids = new Uint8Array(cap * ID_BYTES);
    ids.set(this.ids);
    const spans = new Uint32Array(cap * 3);
    spans.set(this.spans);
    const sources = new Uint16Array(cap);
    sources.set(this.sources);
    this.types = types;
    this.ids = ids;
    this.spans = spans;
    this.sources = sources;
  }
}

export function batchOf(blobs: readonly BatchBlob[]): BatchBlobs {
  const b = new BatchBuilder(Math.max(1, blobs.length));
  for (const x of blobs) b.add(x.type, x.id, x.offset, x.length, x.rawLength);
  return b.build();
}

/**
 * The room a batch takes when it is opened in place (the crypto worker's
 * `openInPlace`): its seals lie at the end of one buffer, and the plaintexts
 * are written from the buffer's start. Before a seal is opened, the
 * plaintexts before it must not have reached it: the buffer needs the seals'
 * bytes plus the most the plaintexts ever got ahead of the seals read, and at
 * least all the plaintexts. Blobs come in batch order; a new seal starts where
 * the last ended (`sealed`), and one that comes again points back at its first.
 */
export class InPlaceRoom {
  /** Bytes of seals, and of plaintexts, so far. */
  sealed = 0;
  plain = 0;
  /** The most plaintext written before a seal's start, beyond that start's offset. */
  private lead = 0;

  /** The buffer size the batch needs with one more blob. */
  bytesWith(offset: number, length: number, rawLength: number): number {
    const plain = this.plain + rawLength;
    if (offset !== this.sealed) return Math.max(plain, this.sealed + this.lead);
    return Math.max(plain, this.sealed + length + Math.max(this.lead, this.plain - offset));
  }

  add(offset: number, length: number, rawLength: number): void {
    if (offset > this.sealed) throw new Error('a seal in a batch opened in place must follow the last one');
    if (offset === this.sealed) {
      this.lead = Math.max(this.lead, this.plain - offset);
      this.sealed += length;
    }
    this.plain += rawLength;
  }

  /** The buffer size the batch needs. */
  get bytes(): number {
    return Math.max(this.plain, this.sealed + this.lead);
  }
}
