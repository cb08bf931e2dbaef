/**
 * Forgetting snapshots by the retention rule "keep the newest N". Only the
 * snapshot manifests are removed here; the data they alone used is reclaimed
 * by prune.
 */
import { ChatsafeError } from '../errors.js';
import type { Repository } from '../repo/repository.js';
import type { SnapshotRecord } from '../repo/snapshot.js';

export async function forgetKeepLast(repo: Repository, keepLast: number): Promise<SnapshotRecord[]> {
  if (!Number.isInteger(keepLast) || keepLast < 1) throw new ChatsafeError('usage', 'keep-last must be at least 1.');
  const all = await repo.listSnapshots();
  const doomed = all.slice(0, Math.max(0, all.length - keepLast));
  for (const s of doomed) await repo.backend.remove('snapshots', s.id);
  return doomed;
}
