/** Applies "keep the newest N" after a verified backup: forget, then prune, under one exclusive lock. */
import { withLock } from '../repo/lock.js';
import type { Repository } from '../repo/repository.js';
import type { SnapshotRecord } from '../repo/snapshot.js';
import { forgetKeepLast } from './forget.js';
import { pruneLocked, type PruneOptions, type PruneResult } from './prune.js';

export async function applyRetention(repo: Repository, keepLast: number, opts: PruneOptions = {}): Promise<{ forgotten: SnapshotRecord[]; pruned: PruneResult | null }> {
  return withLock(repo, true, async () => {
    const forgotten = await forgetKeepLast(repo, keepLast);
    const pruned = forgotten.length > 0 ? await pruneLocked(repo, opts) : null;
    return { forgotten, pruned };
  });
}

export async function prune(repo: Repository, opts: PruneOptions = {}): Promise<PruneResult> {
  return withLock(repo, true, () => pruneLocked(repo, opts));
}

export async function forget(repo: Repository, keepLast: number): Promise<SnapshotRecord[]> {
  return withLock(repo, true, () => forgetKeepLast(repo, keepLast));
}
