/**
 * Restoring a snapshot from a repository into a folder. The whole plan is
 * made first (every tree opened and authenticated, every chunk found in the
 * index, every conflict found), so a damaged tree, an unindexed chunk or an
 * existing file stops the restore before anything is written. Chunks are then read in as few storage requests as possible
 * (adjacent blobs of a pack in one range read), gathered into batches that
 * are opened in the crypto workers ahead of the writer (one call for many
 * small ranges, from one pack or several), and written file by file, in two
 * lanes side by side (`splitIntoLanes`).
 */
import { objectPath, type RangeReader } from '../storage/backend.js';
import { BatchBuilder, InPlaceRoom } from '../jobs/batch-blobs.js';
import { CryptoPool } from '../jobs/crypto-pool.js';
import { orderedMap } from '../jobs/ordered-map.js';
import { collectAllGarbage } from '../jobs/v8-collector.js';
import { ProgressMeter, type ProgressListener } from '../jobs/progress.js';
import { IntegrityError, throwIfCancelled } from '../errors.js';
import type { BlobIndex } from '../repo/master-index.js';
import { withLock } from '../repo/lock.js';
import type { Repository } from '../repo/repository.js';
import type { SnapshotRecord } from '../repo/snapshot.js';
import type { ChunkList } from '../repo/chunk-list.js';
import { ChunkPlaces } from './chunk-places.js';
import { FileOpener, TargetWriter } from './target-writer.js';

/** Batches read and opened ahead of the writer, in each lane: four in all (one writer read three ahead). */
const READ_AHEAD = 2;
/** Runs of files restored side by side (`splitIntoLanes`); a third was no faster on two cores, and took 12 MiB more. */
const LANES = 2;
/** Separate ranges in one batch, at most (each is a read of its own). */
const MAX_RANGES = 256;
/**
 * A batch's buffer, which its seals are read into and its plaintexts written over (`InPlaceRoom`):
 * room for the largest chunk (4 MiB) with its seal around it.
 */
const BUFFER_BYTES = 4 * 1024 * 1024 + 64 * 1024;
/** Files created ahead of the writer (`FileOpener`): enough to cover a run of small files. */
const OPEN_AHEAD = 16;

export interface RestoreOptions {
  readonly snapshot: SnapshotRecord;
  readonly target: string;
  readonly overwrite?: boolean;
  readonly signal?: AbortSignal;
  readonly onProgress?: ProgressListener;
  readonly workers?: number;
}

export interface RestoreResult {
  readonly files: number;
  readonly dirs: number;
  readonly symlinks: number;
  readonly bytes: number;
}

/**
 * An entry as a restore or an export writes it. A plan is held to the end, an item for every file,
 * so it keeps only what is written: not the inode and change time a tree records for the next
 * backup's comparison, nor the tree's node itself (a restore of the 3 GiB export held 22,127 files
 * as the node and an item around it, about 440 bytes each).
 */
export type PlanItem = PlannedFile | PlannedDir | PlannedSymlink;

interface PlannedCommon {
  /** Path components joined with '/'. */
  readonly relPath: string;
  readonly mode: number;
  readonly mtimeNs: string;
}

export interface PlannedFile extends PlannedCommon {
  readonly type: 'file';
  readonly size: number;
  readonly content: ChunkList;
}

interface PlannedDir extends PlannedCommon {
  readonly type: 'dir';
}

interface PlannedSymlink extends PlannedCommon {
  readonly type: 'symlink';
  readonly target: string;
}

export async function restore(repo: Repository, opts: RestoreOptions): Promise<RestoreResult> {
  return withLock(repo, false, () => restoreLocked(repo, opts));
}

async function restoreLocked(repo: Repository, opts: RestoreOptions): Promise<RestoreResult> {
  // The worker starts while the index is read and the plan made, instead of when the first batch is
  // ready to open: its start-up is off the restore's path.
  const pool = new CryptoPool(repo.keys, opts.workers);
  pool.warm();
  try {
    const { plan, lanes } = await planRestore(repo, opts);
    const writer = new TargetWriter(opts.target, opts.overwrite ?? false);
    await writer.prepare(plan);
    try {
      return await restoreInto(writer, repo, plan, lanes, pool, opts);
    } catch (e) {
      // Every lane has stopped, with its files committed or removed: what is complete goes into place.
      await writer.salvage();
      throw e;
    }
  } finally {
    await pool.close();
  }
}

/** A lane's files, in restore order, and where their chunks lie. */
interface Lane {
  readonly files: readonly PlannedFile[];
  readonly places: ChunkPlaces;
}

/**
 * The plan, and the lanes with where each of their chunks lies. The repository then lets go of
 * its trees and its index, which the rest of a restore does not read: resolved here, the places
 * take 16 bytes a chunk against the index's 55 a blob, which stayed to the end (`ChunkPlaces`).
 */
async function planRestore(repo: Repository, opts: RestoreOptions): Promise<{ plan: PlanItem[]; lanes: Lane[] }> {
  const index = await repo.loadIndex();
  const plan: PlanItem[] = [];
  await planTree(repo, index, opts.snapshot.snapshot.tree, '', plan, opts.signal);
  repo.forgetTreeReads();
  const files = plan.filter((p) => p.type === 'file');
  const lanes = splitIntoLanes(files, LANES).map((l) => ({ files: l, places: ChunkPlaces.resolve(l, index) }));
  repo.forgetIndex();
  return { plan, lanes };
}

/** The restore proper, once the target is prepared; whatever it throws, the caller salvages what is complete. */
async function restoreInto(writer: TargetWriter, repo: Repository, plan: readonly PlanItem[], lanes: readonly Lane[], pool: CryptoPool, opts: RestoreOptions): Promise<RestoreResult> {
  // Planning parsed every tree: the JSON's strings (a database's chunk ids, 157,000 for the 3 GiB
  // export) are garbage now, and the heap they grew would otherwise stay resident beside the
  // restore's buffers. One full collection here: 201 against 227 MiB at 3 GiB, in the same time.
  collectAllGarbage();
  const files = lanes.flatMap((l) => l.files);
  const meter = new ProgressMeter(opts.onProgress, 'restoring', files.reduce((n, f) => n + f.size, 0), files.length);
  meter.done();

  // A batch is read into one buffer and opened in place, and the buffer moves to a worker and back.
  // It is not shared memory: V8 copies into shared memory with relaxed atomics, byte by byte where
  // source and target are not aligned alike (3 GiB/s against 40), and the plaintexts of stored
  // chunks mostly are not. Each lane holds at most READ_AHEAD + 1 buffers (read or opened ahead,
  // and the one being written).
  const buffers = new BufferRing(BUFFER_BYTES);
  const packs = repo.packReader();
  const result = { files: 0, dirs: plan.filter((p) => p.type === 'dir').length, symlinks: 0, bytes: 0 };
  // One lane's failure stops the other; the first error is the one reported.
  const stop = new AbortController();
  const signal = opts.signal ? AbortSignal.any([opts.signal, stop.signal]) : stop.signal;
  const errors: unknown[] = [];
  try {
    for (const p of plan) {
      if (p.type === 'dir') await writer.mkdir(p.relPath, p.mode, p.mtimeNs);
    }
    const context: LaneContext = { pool, buffers, packs, writer, meter, signal, result };
    await Promise.all(
      lanes.map((lane) =>
        restoreLane(lane, context).catch((e: unknown) => {
          errors.push(e);
          stop.abort();
        }),
      ),
    );
    if (errors.length > 0) throw errors[0];
    for (const p of plan) {
      if (p.type === 'symlink') {
        await writer.symlink(p.relPath, p.target, p.mtimeNs);
        result.symlinks++;
      }
    }
    await writer.finish();
    meter.done();
    return result;
  } finally {
    await packs.close();
  }
}

interface LaneContext {
  readonly pool: CryptoPool;
  readonly buffers: BufferRing;
  readonly packs: RangeReader;
  readonly writer: TargetWriter;
  readonly meter: ProgressMeter;
  readonly signal: AbortSignal;
  /** Counts of the files restored, shared by the lanes. */
  readonly result: { files: number; bytes: number };
}

/**
 * Restores one lane's files in order: its chunks are read and opened a few
 * batches ahead of the writer, and its files created ahead on the thread pool.
 */
async function restoreLane({ files, places }: Lane, ctx: LaneContext): Promise<void> {
  const { buffers, signal } = ctx;
  const opener = new FileOpener(ctx.writer, files.map((f) => f.relPath), OPEN_AHEAD);
  const chunks = new ChunkCursor(
    orderedMap(readBatches(files, places), READ_AHEAD, async (b) => {
      throwIfCancelled(signal);
      const buffer = buffers.take(b.room.bytes);
      try {
        // The seals end where the buffer ends; the plaintexts will start at its start.
        const base = buffer.byteLength - b.room.sealed;
        let at = base;
        // Every read settles before the buffer can go back (and to another batch), also after a failure.
        const reads = await Promise.allSettled(
          b.ranges.map((r) => {
            const place = Buffer.from(buffer, at, r.length);
            at += r.length;
            // A backend that read into memory of its own: its bytes are copied into place.
            return ctx.packs.read(r.pack, { offset: r.offset, length: r.length }, place).then((bytes) => bytes.buffer !== buffer && place.set(bytes));
          }),
        );
        for (const r of reads) if (r.status === 'rejected') throw r.reason;
        return { plain: await ctx.pool.openBatchInPlace(buffer, base, b.blobs.build(), b.objects), lengths: b.lengths };
      } catch (e) {
        // Kept for the next batch unless it moved to a worker that failed.
        buffers.give(buffer);
        throw e;
      }
    }),
    (plain) => buffers.give(plain.buffer),
  );
  try {
    for (const f of files) {
      throwIfCancelled(signal);
      const out = await opener.take();
      try {
        for (let left = f.content.length; left > 0; ) {
          const { data, count } = await chunks.take(left);
          out.write(data);
          ctx.meter.add(data.length);
          left -= count;
        }
        if (out.written !== f.size) throw new IntegrityError(`file ${f.relPath}`, `restored ${out.written} bytes, the snapshot records ${f.size}`);
        out.commit(f.mode, f.mtimeNs);
      } catch (e) {
        out.abort();
        throw e;
      }
      ctx.meter.add(0, 1);
      ctx.result.files++;
      ctx.result.bytes += f.size;
    }
  } finally {
    await chunks.close();
    await opener.close();
  }
}

/**
 * Cuts the files, in restore order, into `lanes` runs of about equal bytes,
 * restored side by side. A chat export is one database of thousands of small
 * blobs, whose opening keeps the crypto worker busy while the writer waits,
 * and thousands of media files, whose creation keeps the writer busy while
 * the worker waits: one after the other, each half of a restore left a core
 * idle. Runs keep each lane's reads within the packs its files were stored in.
 */
export function splitIntoLanes<T extends { size: number }>(files: readonly T[], lanes: number): T[][] {
  const total = files.reduce((n, f) => n + f.size, 0);
  const out: T[][] = [];
  let lane: T[] = [];
  let bytes = 0;
  for (const f of files) {
    // A file goes to the next lane when more of it lies past this lane's share than before it; the last lane takes what is left.
    if (lane.length > 0 && out.length < lanes - 1 && bytes + f.size / 2 > (total * (out.length + 1)) / lanes) {
      out.push(lane);
      lane = [];
    }
    lane.push(f);
    bytes += f.size;
  }
  if (lane.length > 0) out.push(lane);
  return out;
}

export async function planTree(repo: Repository, index: BlobIndex, treeId: string, prefix: string, out: PlanItem[], signal?: AbortSignal): Promise<void> {
  throwIfCancelled(signal);
  const tree = await repo.loadTree(index, treeId);
  for (const node of tree.nodes) {
    const relPath = prefix ? `${prefix}/${node.name}` : node.name;
    const { mode, mtimeNs } = node;
    if (node.type === 'file') out.push({ type: 'file', relPath, mode, mtimeNs, size: node.size, content: node.content });
    else if (node.type === 'symlink') out.push({ type: 'symlink', relPath, mode, mtimeNs, target: node.target });
    else {
      out.push({ type: 'dir', relPath, mode, mtimeNs });
      await planTree(repo, index, node.subtree, relPath, out, signal);
    }
  }
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

export function* readBatches(files: ReadonlyArray<{ readonly content: ChunkList }>, places: ChunkPlaces): Generator<ReadBatch> {
  let b: ReadBatch | null = null;
  /** Each pack's place in the batch's `objects`, by pack number. */
  let sourceOf = new Map<number, number>();
  /** Where each blob of the batch lies among its seals, by pack number and offset in the pack. */
  let placed = new Map<number, Map<number, number>>();
  let k = 0;
  for (const f of files) {
    const content = f.content;
    for (let i = 0; i < content.length; i++, k++) {
      const id = content.id(i);
      const packNo = places.pack(k);
      const pack = places.packs[packNo]!;
      const offset = places.offset(k);
      const length = places.length(k);
      const rawLength = places.rawLength(k);
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
      b.blobs.add('data', id, at, length, rawLength, sourceOf.get(packNo)!);
      b.room.add(at, length, rawLength);
      b.lengths.push(rawLength);
    }
  }
  if (b) yield b;
}

/**
 * Hands out the restored chunks in order, several adjacent ones at a time:
 * the chunks of one read group are contiguous in its plaintext, so a file
 * made of many small chunks (a database's pages) is written in large pieces.
 */
class ChunkCursor {
  private plain: Buffer = Buffer.alloc(0);
  private lengths: number[] = [];
  private next = 0;
  private offset = 0;

  /** `done` gets each group's plaintext once all of it was handed out and the next is asked for. */
  constructor(
    private readonly groups: AsyncGenerator<{ plain: Buffer; lengths: number[] }>,
    private readonly done: (plain: Buffer) => void,
  ) {}

  /** Up to `max` next chunks, as one buffer, and how many they are (valid until the next call). */
  async take(max: number): Promise<{ data: Buffer; count: number }> {
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
 * it. Larger needs get memory of their own, which is not kept; a buffer that
 * comes back detached (it moved to a worker that failed) is dropped.
 */
class BufferRing {
  private readonly free: ArrayBuffer[] = [];

  constructor(private readonly size: number) {}

  take(atLeast: number): ArrayBuffer {
    return (atLeast <= this.size && this.free.pop()) || new ArrayBuffer(Math.max(atLeast, this.size));
  }

  give(buffer: ArrayBufferLike): void {
    if (buffer instanceof ArrayBuffer && buffer.byteLength === this.size) this.free.push(buffer);
  }
}
