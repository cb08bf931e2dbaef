/**
 * The ids a backup's crypto worker sealed that the index does not show yet,
 * so a chunk repeated within a backup is sealed once. A worker's sealed
 * chunks reach the index when their pack is written, and the worker reads
 * the index itself (`repo/indexed-ids.ts`): only the ids of its open packs and
 * of packs still on their way need keeping here. Kept whole, this was every id
 * sealed in the run: 6 MiB in a first backup of the 3 GiB bench export.
 */
import type { IndexedIds } from '../repo/indexed-ids.js';
import { BlobIdSet } from '../repo/blob-id-set.js';

/**
 * Ids kept before the indexed ones are first let go of. A few packs' worth of database pages
 * (about a thousand a pack): the set is emptied of indexed ids whenever it doubles from there.
 */
const FIRST_SWEEP_IDS = 8192;

export class SealedInRun {
  private readonly ids = new BlobIdSet();
  private sweepAt: number;

  constructor(private readonly firstSweep = FIRST_SWEEP_IDS) {
    this.sweepAt = firstSweep;
  }

  get size(): number {
    return this.ids.size;
  }

  /**
   * Whether the chunk `id` names is new to the repository and this run: then it is kept, and the
   * caller seals it. `indexed` is the index as the worker last saw it.
   */
  claim(id: Uint8Array, indexed: IndexedIds | null): boolean {
    if (indexed?.has(id) || !this.ids.add(id)) return false;
    if (this.ids.size >= this.sweepAt && indexed) this.sweep(indexed);
    return true;
  }

  /**
   * Lets go of the ids the index shows (their packs are written), in place: a new set each time
   * (every four thousand ids or so in a first backup) was garbage that only the worker's full
   * collections freed.
   */
  private sweep(indexed: IndexedIds): void {
    this.ids.retainWhere((id) => !indexed.has(id));
    this.sweepAt = Math.max(this.firstSweep, this.ids.size * 2);
  }
}
