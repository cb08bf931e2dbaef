/** Applies "keep the newest N" after a verified backup: forget, then prune, under one exclusive lock. */
import { ChunkList } from '../repo/chunk-list.js';
import { withLock } from '../repo/lock.js';
import type { Repository } from '../repo/repository.js';
import type { SnapshotRecord } from '../repo/snapshot.js';
import { forgetKeepLast } from './forget.js';
import type { PruneOptions, PruneResult } from './prune.js';

/**
 * `pruned` is null when there was nothing to reclaim: no snapshot was
 * forgotten, or each one forgotten had the same tree and catalog as a
 * snapshot kept (a backup of an unchanged export), so no data became unused
 * and reading the whole index again would buy nothing.
 */
export async function applyRetention(repo: Repository, keepLast: number, opts: PruneOptions = {}): Promise<{ forgotten: SnapshotRecord[]; pruned: PruneResult | null }> {
  return withLock(repo, true, async () => {
    const forgotten = await forgetKeepLast(repo, keepLast);
    if (forgotten.length === 0) return { forgotten, pruned: null };
    const kept = await repo.listSnapshots();
    // Loaded only when it runs: retention after an unchanged backup does not prune.
    const pruned = forgotten.every((f) => kept.some((k) => sameContent(f, k))) ? null : await (await import('./prune.js')).pruneLocked(repo, opts);
    return { forgotten, pruned };
  });
}

/** Two snapshots reference exactly the same blobs: the same root tree, and the same catalog chunks. */
function sameContent(a: SnapshotRecord, b: SnapshotRecord): boolean {
  const ca = a.snapshot.catalog?.content ?? ChunkList.EMPTY;
  const cb = b.snapshot.catalog?.content ?? ChunkList.EMPTY;
  return a.snapshot.tree === b.snapshot.tree && ca.equals(cb);
}

export async function prune(repo: Repository, opts: PruneOptions = {}): Promise<PruneResult> {
  const { pruneLocked } = await import('./prune.js');
  return withLock(repo, true, () => pruneLocked(repo, opts));
}

export async function forget(repo: Repository, keepLast: number): Promise<SnapshotRecord[]> {
  return withLock(repo, true, () => forgetKeepLast(repo, keepLast));
}
