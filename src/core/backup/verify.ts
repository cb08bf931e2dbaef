/**
 * Verifies a snapshot as stored: reads it back, checks the index (the
 * backup's own, once its files are all listed in storage), opens every
 * tree, and checks that every chunk it needs is indexed in a pack that
 * exists with the right size. Retention runs only after this
 * succeeds, so the previous snapshot is never deleted for a broken new one.
 */
import { objectPath } from '../storage/backend.js';
import { runLimited } from '../storage/common.js';
import { ID_BYTES, shortHex, type BlobKey } from '../crypto/ids.js';
import { IntegrityError, throwIfCancelled } from '../errors.js';
import type { ChunkList } from '../repo/chunk-list.js';
import type { BlobIndex } from '../repo/master-index.js';
import type { Repository } from '../repo/repository.js';
import type { Snapshot } from '../repo/snapshot.js';

export interface SnapshotUsage {
  readonly trees: Set<string>;
  /** Where each file's chunks go: a `BlobIdSet`, or prune's marks in the index. */
  readonly data: { addAll(chunks: ChunkList): void };
}

/**
 * What `referencedPacks` found for a snapshot in `index`: a later snapshot with the same tree and
 * catalog needs exactly these packs, under the same lock and index.
 */
export interface CheckedReferences {
  readonly snapshot: Pick<Snapshot, 'tree' | 'catalog'>;
  readonly index: BlobIndex;
  readonly packs: ReadonlySet<string>;
}

/**
 * Verifies snapshot `id` as stored. Given `checked` (the references of a snapshot with the same tree
 * and catalog, looked up under this lock in the same index), its trees are not opened again: only
 * the packs' sizes are checked.
 */
export async function verifySnapshot(repo: Repository, id: string, signal?: AbortSignal, known?: BlobIndex, checked?: CheckedReferences): Promise<void> {
  const snapshot = await repo.loadSnapshot(id, true);
  const index = known ? await checkListed(repo, known) : await repo.loadIndex();
  const packs = checked && checked.index === index && sameReferences(snapshot, checked.snapshot) ? checked.packs : (await referencedPacks(repo, index, id, snapshot, signal)).packs;
  const sizes = await packSizes(repo, packs, signal);
  for (const pack of packs) {
    const size = sizes.get(pack);
    const expected = index.packs.get(pack)?.size;
    if (size === undefined) throw new IntegrityError(objectPath('data', pack), 'is missing');
    if (size !== expected) throw new IntegrityError(objectPath('data', pack), `has ${size} bytes, the index says ${expected}`);
  }
}

/**
 * Opens every tree snapshot `id` references and finds the pack of every blob it needs in `index`;
 * throws an IntegrityError naming the first blob no index lists.
 */
export async function referencedPacks(repo: Repository, index: BlobIndex, id: string, snapshot: Snapshot, signal?: AbortSignal): Promise<CheckedReferences> {
  // Blobs go straight to their packs: a chat database is tens of thousands of
  // chunks, and a set of their ids would only be thrown away.
  const packs = new Set<string>();
  const unlisted = (blob: BlobKey) => new IntegrityError(`snapshots/${id}`, `needs blob ${shortHex(blob)}, which no index lists`);
  const need = (blob: BlobKey) => {
    const pack = index.packOf(blob);
    if (pack === undefined) throw unlisted(blob);
    packs.add(pack);
  };
  const needAll = (chunks: ChunkList) => {
    const bytes = chunks.bytes();
    for (let at = 0; at < bytes.length; at += ID_BYTES) {
      const pack = index.packOfAt(bytes, at);
      if (pack === undefined) throw unlisted(bytes.subarray(at, at + ID_BYTES));
      packs.add(pack);
    }
  };
  await forEachReference(repo, index, snapshot, new Set(), need, needAll, signal);
  return { snapshot, index, packs };
}

function sameReferences(a: Pick<Snapshot, 'tree' | 'catalog'>, b: Pick<Snapshot, 'tree' | 'catalog'>): boolean {
  if (a.tree !== b.tree) return false;
  if (a.catalog === null || b.catalog === null) return a.catalog === b.catalog;
  return a.catalog.size === b.catalog.size && a.catalog.content.equals(b.catalog.content);
}

/** Above this many packs, one listing of them all is read before any is looked at on its own. */
const LIST_ABOVE = 32;
/** Packs looked at on their own at once (a HEAD request each on S3). */
const STATS_IN_FLIGHT = 8;

/**
 * The stored size of each of `packs` that exists. A snapshot uses nearly
 * every pack of its repository, and on S3 one listing answers for a thousand
 * packs a request, where a HEAD per pack, one after another, was 260 round
 * trips for the 1 GiB export (most of an unchanged backup to a server on the
 * same machine, and seconds to one across the internet). A pack the listing
 * does not show is still looked at on its own: some stores list new objects
 * late.
 */
export async function packSizes(repo: Repository, packs: ReadonlySet<string>, signal?: AbortSignal, listAbove = LIST_ABOVE): Promise<Map<string, number>> {
  const sizes = new Map<string, number>();
  if (packs.size > listAbove) {
    for await (const info of repo.backend.list('data')) {
      if (packs.has(info.name)) sizes.set(info.name, info.size);
    }
  }
  const unseen = [...packs].filter((p) => !sizes.has(p));
  await runLimited(unseen.length, STATS_IN_FLIGHT, async (i) => {
    throwIfCancelled(signal);
    const info = await repo.backend.stat('data', unseen[i]!);
    if (info) sizes.set(unseen[i]!, info.size);
  });
  return sizes;
}

/**
 * The backup's own index, once every index file it is made of is listed in
 * storage. Those files are named by the hash of the bytes the backup read or
 * wrote (and fsynced) under its exclusive lock, so parsing them again would
 * only hold a second copy of the index in memory, at the backup's peak.
 */
async function checkListed(repo: Repository, index: BlobIndex): Promise<BlobIndex> {
  const listed = new Set<string>();
  for await (const info of repo.backend.list('index')) listed.add(info.name);
  for (const name of index.files) if (!listed.has(name)) throw new IntegrityError(objectPath('index', name), 'is missing');
  return index;
}

/** Adds every tree and data blob a snapshot references (trees are opened, so they are verified too). */
export async function collectUsage(repo: Repository, index: BlobIndex, snapshot: Snapshot, usage: SnapshotUsage, signal?: AbortSignal): Promise<void> {
  await forEachReference(repo, index, snapshot, usage.trees, () => undefined, (chunks) => {
    usage.data.addAll(chunks);
  }, signal);
}

/**
 * Calls `onTree` for each tree a snapshot references that is not yet in
 * `seenTrees` (and adds it there), after opening it, and `onData` with the
 * chunk list of every file those trees and the catalog reference, repeats
 * included. A large file's chunk lists count as trees (they are tree blobs),
 * and `onData` has each of them once.
 */
async function forEachReference(
  repo: Repository,
  index: BlobIndex,
  snapshot: Snapshot,
  seenTrees: Set<string>,
  onTree: (id: string) => void,
  onData: (chunks: ChunkList) => void,
  signal?: AbortSignal,
): Promise<void> {
  if (snapshot.catalog) onData(snapshot.catalog.content);
  const stack = [snapshot.tree];
  while (stack.length > 0) {
    throwIfCancelled(signal);
    const treeId = stack.pop()!;
    if (seenTrees.has(treeId)) continue;
    seenTrees.add(treeId);
    const tree = await repo.loadStoredTree(index, treeId);
    onTree(treeId);
    for (const node of tree.nodes) {
      if (node.type === 'dir') stack.push(node.subtree);
      else if (node.type === 'file' && node.chunkLists === undefined) onData(node.content);
      else if (node.type === 'file') {
        // A list at a time (256 KiB), never a database's whole list of ids. A list seen before
        // (in another file or snapshot) has had its chunks counted.
        for (const list of node.chunkLists) {
          if (seenTrees.has(list)) continue;
          seenTrees.add(list);
          onData(await repo.readChunkList(index, list));
          onTree(list);
        }
      }
    }
  }
}
