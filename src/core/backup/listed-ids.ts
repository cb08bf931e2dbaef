/**
 * The chunk ids of one large file, stored as chunk lists (FORMAT.md §8) while the file is still
 * being read, instead of gathered whole and listed when its folder ends.
 *
 * A chat database is stored page by page: the 3 GiB reference export's 157,000 pages were 5 MiB of
 * ids held until the Databases folder ended, and then copied a list at a time, at that backup's
 * highest moment; a database of 10 GiB would hold 80 MiB. Here a list of LIST_IDS ids (256 KiB) is
 * stored as soon as all of its ids are known, so a file holds two or three lists' worth at most:
 * batches come back out of order, but only the few in flight (`BlobSaver`) are missing at a time.
 *
 * The lists are the same blobs, in the same order, as `TreeWalker.withChunkLists` makes from the
 * whole file: LIST_IDS ids in every list but the last. A list is stored only once an id past it
 * is reserved, or the file ended longer than one list: a file that turns out to hold LIST_IDS
 * chunks or fewer (it shrank while read) keeps its ids inline, as the format asks, and leaves no
 * unreferenced list behind.
 */
import { ID_BYTES } from '../crypto/ids.js';
import { ChunkList } from '../repo/chunk-list.js';
import { LIST_IDS } from '../repo/tree.js';
import { SettledIdSink } from './directory-ids.js';

/** What a listed file comes to: its ids inline (it held LIST_IDS chunks or fewer), or the ids of its chunk lists. */
export type ListedContent = { readonly content: ChunkList } | { readonly chunkLists: ChunkList };

/** Stores one list's ids (a fresh buffer, which the callee may keep) and returns its blob id (64 hex digits). */
export type SaveList = (ids: Buffer) => string;

interface OpenList {
  readonly bytes: Buffer;
  /** Ids filled so far. */
  filled: number;
}

export class ListedIds extends SettledIdSink<ListedContent> {
  /** Lists not yet stored, by number. */
  private readonly open = new Map<number, OpenList>();
  /** Stored lists' blob ids, by number. */
  private readonly stored: string[] = [];
  private reserved = 0;

  constructor(private readonly saveList: SaveList) {
    super();
  }

  /** How many ids are reserved so far. */
  get length(): number {
    return this.reserved;
  }

  reserve(): number {
    if (this.closed) throw new Error('ListedIds: a chunk after done()');
    const slot = this.reserved++;
    const no = Math.floor(slot / LIST_IDS);
    if (slot % LIST_IDS === 0) {
      // Its own memory, not the pool's (no zeros: every id is written before the list is stored).
      this.open.set(no, { bytes: Buffer.allocUnsafeSlow(LIST_IDS * ID_BYTES), filled: 0 });
      // The first id past a list: the file is listed, and the list before may go if it is whole.
      if (no > 0) this.storeIfWhole(no - 1);
    }
    return slot;
  }

  fill(slot: number, from: Uint8Array, at: number): void {
    const no = Math.floor(slot / LIST_IDS);
    const list = this.open.get(no);
    if (!list) throw new Error(`ListedIds: id ${slot} of a list already stored or never reserved`);
    list.bytes.set(from.subarray(at, at + ID_BYTES), (slot % LIST_IDS) * ID_BYTES);
    list.filled++;
    if (this.reserved > (no + 1) * LIST_IDS) this.storeIfWhole(no);
    this.check();
  }

  /** Stores list `no` if every one of its LIST_IDS ids is known (only called once the file is known to go past it). */
  private storeIfWhole(no: number): void {
    const list = this.open.get(no);
    if (list && list.filled === LIST_IDS) this.store(no, list, LIST_IDS);
  }

  private store(no: number, list: OpenList, ids: number): void {
    this.open.delete(no);
    this.stored[no] = this.saveList(ids === LIST_IDS ? list.bytes : Buffer.from(list.bytes.subarray(0, ids * ID_BYTES)));
  }

  /** Every id is known once the open lists hold all the ids the stored ones do not. */
  protected complete(): boolean {
    let filled = 0;
    for (const list of this.open.values()) filled += list.filled;
    return filled >= this.reserved - (Math.ceil(this.reserved / LIST_IDS) - this.open.size) * LIST_IDS;
  }

  /** Stores the lists still open (the last one short); may throw, which rejects `done`. */
  protected result(): ListedContent {
    return this.finish(Math.ceil(this.reserved / LIST_IDS));
  }

  private finish(lists: number): ListedContent {
    if (this.reserved <= LIST_IDS) {
      const only = this.open.get(0);
      this.open.clear();
      return { content: only ? ChunkList.ofBytes(only.bytes.subarray(0, this.reserved * ID_BYTES)) : ChunkList.EMPTY };
    }
    for (const [no, list] of [...this.open].sort(([a], [b]) => a - b)) this.store(no, list, no === lists - 1 ? this.reserved - no * LIST_IDS : LIST_IDS);
    return { chunkLists: ChunkList.ofHex(this.stored) };
  }
}
