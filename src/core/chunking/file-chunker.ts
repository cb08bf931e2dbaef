/**
 * Splits a file into chunks as its blocks are read. The method depends on
 * what the file is:
 * - SQLite databases (chat databases) are cut at fixed, page-aligned offsets:
 *   SQLite rewrites pages in place and never shifts them, so a database that
 *   grew by 1% changes only the chunks holding the pages it touched.
 * - Everything else is cut by content (FastCDC).
 * Chunks are handed to a sink as views, for the caller to copy where it
 * gathers them (`feed`), or returned as buffers with their own memory (`push`).
 */
import { CdcCutter, CDC_PARAMS } from './fastcdc.js';
import type { GearScanner } from './gear-scan.js';

/**
 * SQLite databases are cut into single pages (at least 4 KiB): WhatsApp's
 * indexes over random message keys scatter a 1% growth over about 8% of the
 * pages, so anything coarser than a page would store most of the file again.
 */
export const SQLITE_MIN_CHUNK_BYTES = 4096;

/** The page size from a SQLite header (bytes 16-17, big-endian; 1 means 65536), or null if invalid. */
export function sqlitePageSize(head: Uint8Array): number | null {
  if (head.length < 18) return null;
  const raw = (head[16]! << 8) | head[17]!;
  const size = raw === 1 ? 65536 : raw;
  return size >= 512 && size <= 65536 && (size & (size - 1)) === 0 ? size : null;
}

export function sqliteChunkBytes(head: Uint8Array): number {
  return Math.max(SQLITE_MIN_CHUNK_BYTES, sqlitePageSize(head) ?? SQLITE_MIN_CHUNK_BYTES);
}
const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');

export type ChunkMethod = 'cdc' | 'sqlite-pages';

/** Decides the chunking method from the first bytes of a file. */
export function chunkMethodFor(head: Uint8Array): ChunkMethod {
  return head.length >= 16 && Buffer.from(head.buffer, head.byteOffset, 16).equals(SQLITE_MAGIC) ? 'sqlite-pages' : 'cdc';
}

export class FileChunker {
  private readonly pieces: Uint8Array[] = [];
  private pendingLen = 0;
  private readonly cutter: CdcCutter | null;
  private readonly fixedBytes: number;

  /**
   * `head`: the file's first bytes (for a SQLite file, its page size).
   * `scanner`: one made from the same gear table, for blocks read into its memory.
   */
  constructor(
    readonly method: ChunkMethod,
    gear: Uint32Array,
    head: Uint8Array = new Uint8Array(0),
    scanner: GearScanner | null = null,
  ) {
    this.cutter = method === 'cdc' ? new CdcCutter(gear, CDC_PARAMS, scanner) : null;
    this.fixedBytes = sqliteChunkBytes(head);
  }

  /** How many chunks a file of `size` bytes makes, where that is known before it is read (fixed-size pages); else 0. */
  chunksFor(size: number): number {
    return this.cutter ? 0 : Math.ceil(size / this.fixedBytes);
  }

  /**
   * Feeds the next block of the file and hands each chunk it completes to
   * `sink` as the pieces it spans (the tail of an earlier block, then a part
   * of this one). The pieces are valid only during the call: the sink copies
   * what it keeps.
   *
   * The unfinished tail of `block` is copied, so the caller may reuse `block`
   * at once; unless `rotation` is more than 1: then the caller reads into
   * that many buffers in turn, and promises to leave `block` untouched until
   * `rotation - 1` more blocks have been fed (or `end` returns). The tail is
   * then kept as a view, not copied, as long as the chunk it begins spans no
   * more than `rotation - 1` blocks so far.
   */
  feed(block: Uint8Array, sink: ChunkSink, rotation = 1): void {
    const kept = rotation > 1;
    let start = 0;
    while (start < block.length) {
      const cut = this.cutter ? this.cutter.next(block, start, block.length) : this.fixedCut(block.length, start);
      if (cut < 0) {
        this.pieces.push(kept ? block.subarray(start) : Uint8Array.prototype.slice.call(block, start));
        this.pendingLen += block.length - start;
        // The buffer read next holds the block `rotation - 1` before this one: a chunk that began
        // there (short reads, or one spanning more blocks than the rotation allows) is copied now.
        if (kept && this.pieces.length >= rotation) {
          const joined = joinOwned(this.pieces, this.pendingLen);
          this.pieces.length = 0;
          this.pieces.push(joined);
        }
        break;
      }
      this.pieces.push(block.subarray(start, cut));
      this.pendingLen += cut - start;
      this.emit(sink);
      start = cut;
    }
  }

  /** Hands the last, possibly short, chunk to `sink`. */
  end(sink: ChunkSink): void {
    if (this.pendingLen > 0) this.emit(sink);
  }

  /** Like `feed`, returning each chunk as a buffer with its own memory. */
  push(block: Uint8Array): Buffer[] {
    const out: Buffer[] = [];
    this.feed(block, (parts, length) => out.push(joinOwned(parts, length)));
    return out;
  }

  /** The last, possibly short, chunk, as a buffer with its own memory. */
  finish(): Buffer | null {
    let last: Buffer | null = null;
    this.end((parts, length) => (last = joinOwned(parts, length)));
    return last;
  }

  private emit(sink: ChunkSink): void {
    sink(this.pieces, this.pendingLen);
    this.pieces.length = 0;
    this.pendingLen = 0;
  }

  private fixedCut(end: number, from: number): number {
    const need = this.fixedBytes - this.pendingLen;
    return from + need <= end ? from + need : -1;
  }
}

/** Receives one chunk as the pieces it spans and its total length. */
export type ChunkSink = (parts: readonly Uint8Array[], length: number) => void;

/** A fresh ArrayBuffer (never the shared Buffer pool), so the chunk can be transferred. */
function joinOwned(parts: readonly Uint8Array[], length: number): Buffer {
  const chunk = Buffer.from(new ArrayBuffer(length));
  let o = 0;
  for (const p of parts) {
    chunk.set(p, o);
    o += p.length;
  }
  return chunk;
}

const INCOMPRESSIBLE_MAGIC: ReadonlyArray<{ at: number; bytes: Buffer }> = [
  { at: 0, bytes: Buffer.from([0xff, 0xd8, 0xff]) }, // JPEG
  { at: 0, bytes: Buffer.from('\x89PNG', 'latin1') },
  { at: 0, bytes: Buffer.from('GIF8', 'latin1') },
  { at: 8, bytes: Buffer.from('WEBP', 'latin1') },
  { at: 4, bytes: Buffer.from('ftyp', 'latin1') }, // MP4, MOV, 3GP, HEIC
  { at: 0, bytes: Buffer.from('OggS', 'latin1') }, // Opus voice notes
  { at: 0, bytes: Buffer.from('ID3', 'latin1') }, // MP3
  { at: 0, bytes: Buffer.from([0x1a, 0x45, 0xdf, 0xa3]) }, // WebM / Matroska
  { at: 0, bytes: Buffer.from('PK\x03\x04', 'latin1') }, // zip, docx, apk
  { at: 0, bytes: Buffer.from([0x1f, 0x8b]) }, // gzip
  { at: 0, bytes: Buffer.from('7z\xbc\xaf', 'latin1') },
  { at: 0, bytes: Buffer.from('#!AMR', 'latin1') },
];

/** Whether to try compressing a file's chunks: media and archives never shrink, so skip the work. */
export function worthCompressing(head: Uint8Array): boolean {
  const b = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  return !INCOMPRESSIBLE_MAGIC.some(({ at, bytes }) => b.length >= at + bytes.length && b.subarray(at, at + bytes.length).equals(bytes));
}
