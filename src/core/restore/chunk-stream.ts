/**
 * A run of files' chunks, read and opened in order a few batches ahead of
 * whoever writes them (a restore's lane, a bundle's export, a snapshot's
 * catalog written out for browsing). Chunks are read in as few storage
 * requests as possible (adjacent blobs of a pack in one range read),
 * gathered into batches opened in one worker call each, and handed out in
 * order by a `ChunkCursor`.
 */
import { objectPath, type RangeReader } from '../storage/backend.js';
import type { PackReader } from '../repo/repository.js';
import { BatchBuilder, InPlaceRoom } from '../jobs/batch-blobs.js';
import { CryptoPool } from '../jobs/crypto-pool.js';
import { copyBytes } from '../jobs/copy-bytes.js';
import { orderedMap } from '../jobs/ordered-map.js';
import { throwIfCancelled } from '../errors.js';
import type { Repository } from '../repo/repository.js';
import type { ChunkPlaces } from './chunk-places.js';
import { rowAt, rowLength, rowOffset, rowRawLength } from '../repo/row-store.js';

/** Separate ranges in one batch, at most. */
const MAX_RANGES = 256;
/**
 * Ranges of one pack in a batch this close or closer are read in one request (`readSpans`), the
 * bytes between them into a scratch part that is dropped. After the 1 GiB export's database grew
 * 1%, its pages came in 7,439 ranges instead of 87: runs of unchanged pages in the old packs, with
 * a changed page's old copy between them, and the changed pages one by one from the new packs.
 */
const MAX_GAP = 64 * 1024;
/**
 * A batch's buffer, which its seals are read into and its plaintexts written over (`InPlaceRoom`):
 * room for the largest chunk (4 MiB) with its seal around it.
 */
export const BUFFER_BYTES = 4 * 1024 * 1024 + 64 * 1024;

/** Batches read and opened ahead of whoever writes them: in each of a restore's two lanes (four in all), and in every other run. */
export const READ_AHEAD = 2;

/** What reading and opening chunks needs; the buffers may be shared by several runs. */
export interface ChunkSource {
  readonly pool: CryptoPool;
  readonly buffers: BufferRing;
  readonly packs: PackReader;
  readonly signal?: AbortSignal | undefined;
}

/** The plaintext of the chunks `places` lists, in order, `ahead` batches read and opened ahead of the reader. */
export function openChunks(places: ChunkPlaces, src: ChunkSource, ahead: number): ChunkCursor {
  const { buffers, signal } = src;
  // What lies between the ranges of a span: written by the reads, never read (concurrent reads may share it).
  const gaps = Buffer.allocUnsafeSlow(MAX_GAP);
  return new ChunkCursor(
    orderedMap(readBatches(places), ahead, async (b) => {
      throwIfCancelled(signal);
      const buffer = buffers.take(b.room.bytes);
      let opening = false;
      try {
        // The seals end where the buffer ends; the plaintexts will start at its start.
        const base = buffer.byteLength - b.room.sealed;
        // Every read settles before the buffer can go back (and to another batch), also after a failure.
        const reads = await Promise.allSettled(readSpans(src.packs, b.ranges, buffer, base, gaps));
        for (const r of reads) if (r.status === 'rejected') throw r.reason;
        opening = true;
        return { plain: await src.pool.openBatchInPlace(buffer, base, b.blobs.build(), b.objects), lengths: b.lengths };
      } catch (e) {
        // Kept for the next batch, unless a worker had it: one that failed may still be writing there.
        if (!opening) buffers.give(buffer);
        throw e;
      }
    }),
    (plain) => buffers.give(plain.buffer),
  );
}

/**
 * `use` with the chunks `places` lists read and opened ahead (`openChunks`) by a worker and a pack
 * reader of their own, both closed after: a bundle's export, a snapshot's catalog written out.
 */
export async function withChunks<T>(repo: Repository, places: ChunkPlaces, signal: AbortSignal | undefined, use: (chunks: ChunkCursor) => Promise<T>): Promise<T> {
  const pool = new CryptoPool(repo.keys);
  const packs = repo.packReader();
  try {
    const chunks = openChunks(places, { pool, buffers: new BufferRing(BUFFER_BYTES), packs, signal }, READ_AHEAD);
    try {
      return await use(chunks);
    } finally {
      await chunks.close();
    }
  } finally {
    await packs.close();
    await pool.close();
  }
}

/** `length` bytes of a pack at `offset`, read into `buffer` at `at`; a backend that read into memory of its own has its bytes copied into place. */
export async function readInto(packs: RangeReader, pack: string, offset: number, length: number, buffer: ArrayBufferLike, at: number): Promise<Buffer> {
  const place = Buffer.from(buffer, at, length);
  const bytes = await packs.read(pack, { offset, length }, place);
  if (bytes.buffer !== buffer) copyBytes(place, 0, bytes);
  return place;
}

interface Span {
  readonly pack: string;
  readonly offset: number;
  end: number;
  /** Where each range goes in the batch's buffer, in pack order. */
  readonly ranges: Array<{ readonly offset: number; readonly length: number; readonly at: number }>;
}

/**
 * Reads a batch's ranges into `buffer` one after another from `base`: the ranges of each pack
 * sorted by offset and, where no more than MAX_GAP apart, read as one span into parts.
 */
export function readSpans(packs: PackReader, ranges: ReadonlyArray<{ pack: string; offset: number; length: number }>, buffer: ArrayBufferLike, base: number, gaps: Buffer): Array<Promise<unknown>> {
  const byPack = new Map<string, Array<{ offset: number; length: number; at: number }>>();
  let at = base;
  for (const r of ranges) {
    let list = byPack.get(r.pack);
    if (!list) byPack.set(r.pack, (list = []));
    list.push({ offset: r.offset, length: r.length, at });
    at += r.length;
  }
  const spans: Span[] = [];
  for (const [pack, list] of byPack) {
    list.sort((x, y) => x.offset - y.offset);
    let span: Span | null = null;
    for (const r of list) {
      // Never back over bytes already in the span: a blob read twice in a batch (its buffer was full the first time) is a span of its own.
      if (span && r.offset >= span.end && r.offset - span.end <= Math.min(MAX_GAP, gaps.length)) {
        span.ranges.push(r);
        span.end = r.offset + r.length;
      } else spans.push((span = { pack, offset: r.offset, end: r.offset + r.length, ranges: [r] }));
    }
  }
  return spans.map((s) => {
    if (s.ranges.length === 1) return readInto(packs, s.pack, s.offset, s.end - s.offset, buffer, s.ranges[0]!.at);
    const parts: Buffer[] = [];
    let end = s.offset;
    for (const r of s.ranges) {
      if (r.offset > end) parts.push(gaps.subarray(0, r.offset - end));
      parts.push(Buffer.from(buffer, r.at, r.length));
      end = r.offset + r.length;
    }
    return packs.readParts(s.pack, s.offset, parts);
  });
}

/**
 * Chunks in restore order, read in batches for one worker call each: ranges
 * of adjacent blobs in a pack, and after a database grew, the many small
 * ranges that alternate between its old and new packs. A blob that comes
 * again within a batch (a database's empty pages are all one blob) is read
 * once, and the worker copies its first plaintext for it. A batch is as large
 * as one buffer opened in place allows (`InPlaceRoom`).
 */
interface ReadBatch {
  /** Read one after another into the batch's buffer. */
  readonly ranges: Array<{ pack: string; offset: number; length: number }>;
  /** The packs' object paths, which `blobs.sources` indexes. */
  readonly objects: string[];
  /** Offsets from the first seal. */
  readonly blobs: BatchBuilder;
  /** The plaintext length of each blob. */
  readonly lengths: number[];
  /** Its seals' and plaintexts' bytes, and the buffer it needs. */
  readonly room: InPlaceRoom;
}

export function* readBatches(places: ChunkPlaces): Generator<ReadBatch> {
  let b: ReadBatch | null = null;
  /** Each pack's place in the batch's `objects`, by pack number. */
  let sourceOf = new Map<number, number>();
  /** Where each blob of the batch lies among its seals, by pack number and offset in the pack. */
  let placed = new Map<number, Map<number, number>>();
  for (let k = 0; k < places.count; k++) {
    const packNo = places.pack(k);
    const pack = places.packs[packNo]!;
    const row = places.row(k);
    const stored = places.stored.rowBytes(row);
    const o = rowAt(row);
    const offset = rowOffset(stored, o);
    const length = rowLength(stored, o);
    const rawLength = rowRawLength(stored, o);
    // Already read into this batch: its plaintext is copied again, if it still fits.
    let at = b ? placed.get(packNo)?.get(offset) : undefined;
    if (at !== undefined && b!.room.bytesWith(at, length, rawLength) > BUFFER_BYTES) at = undefined;
    if (!b || at === undefined) {
      const last = b?.ranges[b.ranges.length - 1];
      const adjacent = last !== undefined && last.pack === pack && last.offset + last.length === offset;
      if (!b || b.room.bytesWith(b.room.sealed, length, rawLength) > BUFFER_BYTES || (!adjacent && b.ranges.length >= MAX_RANGES)) {
        if (b) yield b;
        b = { ranges: [], objects: [], blobs: new BatchBuilder(), lengths: [], room: new InPlaceRoom() };
        sourceOf = new Map();
        placed = new Map();
      }
      if (adjacent && b.ranges.length > 0) last.length += length;
      else b.ranges.push({ pack, offset, length });
      if (!sourceOf.has(packNo)) sourceOf.set(packNo, b.objects.push(objectPath('data', pack)) - 1);
      let inPack = placed.get(packNo);
      if (!inPack) placed.set(packNo, (inPack = new Map()));
      at = b.room.sealed;
      inPack.set(offset, at);
    }
    // Read again: the bytes read above may hold other rows by now (the other lane reads rows while this one waits at a `yield`).
    b.blobs.addFrom('data', places.stored.rowBytes(row), o, at, length, rawLength, sourceOf.get(packNo)!);
    b.room.add(at, length, rawLength);
    b.lengths.push(rawLength);
  }
  if (b) yield b;
}

/**
 * Hands out the restored chunks in order, several adjacent ones at a time:
 * the chunks of one read group are contiguous in its plaintext, so a file
 * made of many small chunks (a database's pages) is written in large pieces.
 */
export class ChunkCursor {
  private plain: Buffer = Buffer.alloc(0);
  private lengths: number[] = [];
  private next = 0;
  private offset = 0;

  /** `done` gets each group's plaintext once all of it was handed out and the next is asked for. */
  constructor(
    private readonly groups: AsyncGenerator<{ plain: Buffer; lengths: number[] }>,
    private readonly done: (plain: Buffer) => void,
  ) {}

  /**
   * The plaintext of the next `count` chunks (one file's), in as few pieces as the batches they
   * were opened in allow; each piece is valid until the next is asked for.
   */
  async *pieces(count: number): AsyncGenerator<Buffer> {
    for (let left = count; left > 0; ) {
      const { data, count: taken } = await this.take(left);
      left -= taken;
      yield data;
    }
  }

  /** Up to `max` next chunks, as one buffer, and how many they are (valid until the next call). */
  private async take(max: number): Promise<{ data: Buffer; count: number }> {
    if (this.next === this.lengths.length) {
      if (this.plain.length > 0) this.done(this.plain);
      this.plain = Buffer.alloc(0);
      const g = await this.groups.next();
      if (g.done) throw new Error('restore plan and chunk stream disagree');
      ({ plain: this.plain, lengths: this.lengths } = g.value);
      this.next = 0;
      this.offset = 0;
    }
    const start = this.offset;
    let count = 0;
    while (count < max && this.next < this.lengths.length) {
      this.offset += this.lengths[this.next++]!;
      count++;
    }
    return { data: this.plain.subarray(start, this.offset), count };
  }

  async close(): Promise<void> {
    await this.groups.return(undefined);
  }
}

/**
 * Buffers of one size, given back once used, so a restore moves its data
 * through a few of them instead of allocating (and leaving the garbage
 * collector) one per batch. Whoever holds a buffer (the storage backend
 * reading into it, a worker opening it, the writer) is the only one touching
 * it, handing it on by message. Larger needs get memory of their own, which
 * is not kept.
 *
 * The buffers are shared memory, handed between threads without moving. A
 * buffer that moves arrives on the other thread as a new ArrayBuffer, new
 * external memory to V8 there, which it counts against the old generation's
 * limit until its next full collection: a 1 GiB restore's main thread ran
 * 9-21 full collections (11 in the run measured), against 3 with shared
 * buffers. Copies into and out of them go through `copyBytes`.
 */
export class BufferRing {
  private readonly free: SharedArrayBuffer[] = [];

  constructor(private readonly size: number) {}

  take(atLeast: number): SharedArrayBuffer {
    return (atLeast <= this.size && this.free.pop()) || new SharedArrayBuffer(Math.max(atLeast, this.size));
  }

  give(buffer: ArrayBufferLike): void {
    if (buffer instanceof SharedArrayBuffer && buffer.byteLength === this.size) this.free.push(buffer);
  }
}
