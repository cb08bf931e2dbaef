/**
 * Restoring a snapshot from a repository into a folder. The whole plan is
 * made first (every tree opened and authenticated, every chunk found in the
 * index, every conflict found), so a damaged tree, an unindexed chunk or an
 * existing file stops the restore before anything is written (a file that is
 * already there with the snapshot's bytes is kept, `already-restored.ts`).
 * The chunks are then read and opened ahead of the writer (`chunk-stream.ts`)
 * and written file by file, in two lanes side by side (`splitIntoLanes`).
 */
import { CryptoPool } from '../jobs/crypto-pool.js';
import { collectAllGarbage } from '../jobs/v8-collector.js';
import { ProgressMeter, type ProgressListener } from '../jobs/progress.js';
import { ChatsafeError, IntegrityError, throwIfCancelled } from '../errors.js';
import type { BlobIndex } from '../repo/master-index.js';
import { withLock } from '../repo/lock.js';
import type { Repository } from '../repo/repository.js';
import type { SnapshotRecord } from '../repo/snapshot.js';
import type { ChunkList } from '../repo/chunk-list.js';
import { measureTree } from '../repo/tree-measure.js';
import { filesAlreadyRestored } from './already-restored.js';
import { ChunkPlaces } from './chunk-places.js';
import { BUFFER_BYTES, BufferRing, openChunks, READ_AHEAD, type ChunkSource } from './chunk-stream.js';
import { refusePlanInRepository, refuseTargetInRepository } from '../storage/repository-overlap.js';
import { FileOpener, targetError, TargetWriter } from './target-writer.js';

/** Runs of files restored side by side (`splitIntoLanes`); a third was no faster on two cores, and took 12 MiB more. */
const LANES = 2;
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
  /** Files written. */
  readonly files: number;
  /** Files the target held already with the snapshot's bytes: given their mode and time, not written. */
  readonly kept: number;
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

/** A file once its chunks are placed (`ChunkPlaces`): its chunk list is let go, only their count is kept. */
interface PlacedFile extends PlannedCommon {
  readonly type: 'file';
  readonly size: number;
  readonly chunks: number;
}

/** What a restore writes, once every chunk is placed. */
type RestoreItem = PlacedFile | PlannedDir | PlannedSymlink;

interface PlannedDir extends PlannedCommon {
  readonly type: 'dir';
}

interface PlannedSymlink extends PlannedCommon {
  readonly type: 'symlink';
  readonly target: string;
}

export async function restore(repo: Repository, opts: RestoreOptions): Promise<RestoreResult> {
  refuseTargetInRepository(repo.backend, opts.target);
  return withLock(repo, false, () => restoreLocked(repo, opts));
}

async function restoreLocked(repo: Repository, opts: RestoreOptions): Promise<RestoreResult> {
  // The worker starts while the index is read and the plan made, instead of when the first batch is
  // ready to open: its start-up is off the restore's path.
  const pool = new CryptoPool(repo.keys, opts.workers);
  pool.warm();
  try {
    const { plan, lanes, kept } = await planRestore(repo, opts);
    const writer = new TargetWriter(opts.target, opts.overwrite ?? false);
    await writer.prepare(plan).catch((e: unknown) => {
      throw targetError(e, writer.root);
    });
    try {
      return await restoreInto(writer, repo, plan, lanes, kept, pool, opts);
    } catch (e) {
      // Every lane has stopped, with its files committed or removed: what is complete goes into place.
      await writer.salvage();
      if (opts.signal?.aborted) {
        throw new ChatsafeError('cancelled', 'Cancelled.', `Only whole files were kept in ${writer.root}. Run the same restore again to finish it: the files already there as the snapshot has them are checked and kept.`, { cause: e });
      }
      throw targetError(e, writer.root);
    }
  } finally {
    await pool.close();
  }
}

/** A lane's files, in restore order, and where their chunks lie. */
interface Lane {
  readonly files: readonly PlacedFile[];
  readonly places: ChunkPlaces;
}

/**
 * The plan, and the lanes with where each of their chunks lies. The repository then lets go of
 * its trees and its index, and the plan of the files' chunk lists, which the rest of a restore
 * does not read: each chunk's index row is enough to read its id and place back (`ChunkPlaces`).
 */
async function planRestore(repo: Repository, opts: RestoreOptions): Promise<{ plan: RestoreItem[]; lanes: Lane[]; kept: PlacedFile[] }> {
  const index = await repo.loadIndex();
  const planned: PlanItem[] = [];
  await planSnapshotTree(repo, index, opts.snapshot.snapshot.tree, planned, opts.signal);
  repo.forgetTreeReads();
  refusePlanInRepository(repo.backend, opts.target, planned);
  const allFiles = planned.filter((p) => p.type === 'file');
  // Compared while the chunk lists and the index are at hand; the plan keeps neither.
  const present = await filesAlreadyRestored(opts.target, allFiles, index, repo.keys.blobId, opts.signal);
  const files = present.size === 0 ? allFiles : allFiles.filter((f) => !present.has(f.relPath));
  const kept = present.size === 0 ? [] : allFiles.filter((f) => present.has(f.relPath)).map(placed);
  const lanes = splitIntoLanes(files, LANES).map((l) => ({ files: l.map(placed), places: ChunkPlaces.resolve(l, index) }));
  repo.forgetIndex();
  // The lanes' files are the plan's, in the same order; kept files are not in the way of anything.
  const placedFiles = lanes.flatMap((l) => l.files);
  let n = 0;
  const plan: RestoreItem[] = [];
  for (const p of planned) {
    if (p.type !== 'file') plan.push(p);
    else if (!present.has(p.relPath)) plan.push(placedFiles[n++]!);
  }
  return { plan, lanes, kept };
}

function placed(f: PlannedFile): PlacedFile {
  return { type: 'file', relPath: f.relPath, mode: f.mode, mtimeNs: f.mtimeNs, size: f.size, chunks: f.content.length };
}

/** The restore proper, once the target is prepared; whatever it throws, the caller salvages what is complete. */
async function restoreInto(writer: TargetWriter, repo: Repository, plan: readonly RestoreItem[], lanes: readonly Lane[], kept: readonly PlacedFile[], pool: CryptoPool, opts: RestoreOptions): Promise<RestoreResult> {
  // Planning parsed every tree: the JSON's strings and the files' chunk lists (a database's chunk
  // ids, 157,000 for the 3 GiB export) are garbage now, and the heap they grew would otherwise stay
  // resident beside the restore's buffers. One full collection here: 201 against 227 MiB at 3 GiB,
  // in the same time.
  collectAllGarbage();
  const files = lanes.flatMap((l) => l.files);
  const bytes = files.reduce((n, f) => n + f.size, 0);
  writer.ensureRoom(bytes);
  const meter = new ProgressMeter(opts.onProgress, 'restoring', bytes, files.length);
  meter.done();

  // A batch is read into one buffer and opened in place there by a worker; the buffers are shared
  // memory, which never moves (`BufferRing`). Each lane holds at most READ_AHEAD + 1 buffers (read
  // or opened ahead, and the one being written).
  const buffers = new BufferRing(BUFFER_BYTES);
  const packs = repo.packReader();
  const result = { files: 0, kept: kept.length, dirs: plan.filter((p) => p.type === 'dir').length, symlinks: 0, bytes: 0 };
  // One lane's failure stops the other; the first error is the one reported.
  const stop = new AbortController();
  const signal = opts.signal ? AbortSignal.any([opts.signal, stop.signal]) : stop.signal;
  const errors: unknown[] = [];
  try {
    for (const p of plan) {
      if (p.type === 'dir') await writer.mkdir(p.relPath, p.mode, p.mtimeNs);
    }
    for (const f of kept) writer.keep(f.relPath, f.mode, f.mtimeNs);
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

interface LaneContext extends ChunkSource {
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
  const { signal } = ctx;
  const opener = new FileOpener(ctx.writer, files, OPEN_AHEAD);
  const chunks = openChunks(places, ctx, READ_AHEAD);
  try {
    for (const f of files) {
      throwIfCancelled(signal);
      const out = await opener.take();
      try {
        for await (const data of chunks.pieces(f.chunks)) {
          await out.write(data);
          ctx.meter.add(data.length);
        }
        if (out.written !== f.size) throw new IntegrityError(`file ${f.relPath}`, `restored ${out.written} bytes, the snapshot records ${f.size}`);
        await out.commit(f.mode, f.mtimeNs);
      } catch (e) {
        await out.abort();
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

/**
 * Everything under a snapshot's root tree, in tree order (a folder before its contents), once the
 * trees are known to expand to at most MAX_SNAPSHOT_ENTRIES entries and MAX_TREE_DEPTH folders.
 */
export async function planSnapshotTree(repo: Repository, index: BlobIndex, rootTree: string, out: PlanItem[], signal?: AbortSignal): Promise<void> {
  await measureTree(repo, index, rootTree, new Map(), signal);
  await planTree(repo, index, rootTree, '', out, signal);
}

async function planTree(repo: Repository, index: BlobIndex, treeId: string, prefix: string, out: PlanItem[], signal?: AbortSignal): Promise<void> {
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
