/**
 * How far a snapshot's trees expand, measured without expanding them. Folders with the same
 * contents share one tree, so the entries a restore plans are a product of the trees' sizes; a
 * plan past the limits (FORMAT.md §8) would be built in memory, entry by entry, before it failed.
 */
import { IntegrityError, throwIfCancelled } from '../errors.js';
import type { BlobIndex } from './master-index.js';
import type { Repository } from './repository.js';
import { MAX_SNAPSHOT_ENTRIES, MAX_TREE_DEPTH } from './tree.js';

export interface TreeMeasure {
  /** Entries under the tree, the trees below it included. */
  readonly entries: number;
  /** Folders below it, on the deepest path. */
  readonly height: number;
}

/**
 * Measures a tree, each distinct tree once (`known`, which may be shared between snapshots);
 * past MAX_SNAPSHOT_ENTRIES or MAX_TREE_DEPTH it fails with an integrity error naming the tree.
 */
export async function measureTree(repo: Repository, index: BlobIndex, treeId: string, known: Map<string, TreeMeasure>, signal?: AbortSignal): Promise<TreeMeasure> {
  const seen = known.get(treeId);
  if (seen) return seen;
  throwIfCancelled(signal);
  const tree = await repo.readStoredTree(index, treeId);
  let entries = 0;
  let height = 0;
  for (const node of tree.nodes) {
    entries++;
    if (node.type !== 'dir') continue;
    const below = await measureTree(repo, index, node.subtree, known, signal);
    entries += below.entries;
    height = Math.max(height, below.height + 1);
    if (entries > MAX_SNAPSHOT_ENTRIES) throw new IntegrityError(`tree ${treeId.slice(0, 16)}`, `expands to more than ${MAX_SNAPSHOT_ENTRIES.toLocaleString('en-US')} files and folders, more than a backup stores`);
    if (height > MAX_TREE_DEPTH) throw new IntegrityError(`tree ${treeId.slice(0, 16)}`, `holds folders more than ${MAX_TREE_DEPTH} deep, more than a backup stores`);
  }
  const measure = { entries, height };
  known.set(treeId, measure);
  return measure;
}
