/**
 * The index's tags (the first four bytes of each row's id) and the
 * open-addressing table over them, laid out so that a backup's crypto workers
 * read them where the main thread keeps them, and read the rows themselves
 * from the same store (`row-store.ts`) to compare a whole id.
 *
 * MasterIndex holds its tags (4 bytes a row) and its table (row + 1 per slot,
 * 0 empty, a power of two at most two thirds full) in shared memory, and a
 * worker attaches to the same buffers to tell a chunk the repository holds
 * before sealing it. A slot is the tag's low bits, so the table is filled
 * again from the tags alone; a row whose tag matches is read back to compare
 * its whole id. Before, each backup built a second table of the known ids
 * for the workers, and each worker kept a third of the ids it sealed: for
 * the 220,000 blobs of the 3 GiB bench export, 4.5 and 6 MiB beside the
 * index's own 10.
 *
 * Both live in growable shared buffers that are never replaced, only grown
 * in place (a worker is handed them once, and views them anew when they grew:
 * `tagsView`, `slotsView`).
 * Replaced by larger ones instead, the outgrown buffers lingered until both
 * threads' next full collection (shared memory adds nothing to the external
 * memory that prompts one): 10 MiB more at the highest moment of a 3 GiB
 * first backup.
 *
 * The main thread goes on adding packs while a worker reads, without locks:
 * - It writes a row and its tag before the slot naming the row; adding never
 *   moves a row already in the table.
 * - When the table doubles, it is filled again in place, between two steps of
 *   a counter (odd while it moves). A lookup that found nothing while the
 *   counter moved looks again: a worker lets go of the ids it sealed once the
 *   index shows them (`jobs/sealed-in-run.ts`), so a miss then would seal a
 *   chunk twice (three of four runs of a small test backup did).
 * - A reader that still misses an id (it sees a slot before its row's bytes:
 *   the writes of another thread may arrive in any order) takes a stored
 *   chunk for a new one, and seals it again; the index keeps the first copy
 *   and prune drops the other. It can never take a new chunk for a stored
 *   one: that needs all 32 bytes of the id in the row.
 */
import { ID_BYTES, idTag } from '../crypto/ids.js';
import { RowReader, type RowStoreShare } from './row-store.js';

export interface IndexedIdBuffers {
  /** Uint32, one a row: the first four bytes of its id, little-endian. */
  readonly tags: SharedArrayBuffer;
  readonly slots: SharedArrayBuffer;
  /** One 32-bit counter, odd while the table is filled again. */
  readonly moves: SharedArrayBuffer;
  /** Where the rows are, ids included. */
  readonly rows: RowStoreShare;
}

/** The row holding the id at `bytes[at, at + 32)`, or -1. */
export function findIdRow(tags: Uint32Array, slots: Int32Array, rows: RowReader, bytes: Uint8Array, at: number): number {
  const tag = idTag(bytes, at);
  const mask = slots.length - 1;
  // The table is never full (`tableHasRoom`), so an empty slot ends every probe; the bound is for a reader's safety.
  for (let s = tag & mask, n = 0; n < slots.length; s = (s + 1) & mask, n++) {
    const row = slots[s]! - 1;
    if (row < 0) return -1;
    if (row < tags.length && tags[row] === tag && rows.holdsId(row, bytes, at)) return row;
  }
  return -1;
}

/**
 * Whether a table of `slots` slots takes `count` ids: at most two thirds full, where a lookup that
 * misses probes five slots on average (two and a half at half full). Kept at most half full, the
 * table of a 3 GiB first backup doubled to 2 MiB once its database's 160,000 pages were in; at two
 * thirds it stays at 1 MiB through the media.
 */
export function tableHasRoom(slots: number, count: number): boolean {
  return count * 3 <= slots * 2;
}

/**
 * The most blobs an index holds: 33.5 million, a repository of 128 GiB in database pages alone (the
 * 3 GiB export has 220,000). Growable buffers reserve their largest size as address space at once
 * (committed only as they grow), and Electron keeps every buffer in a sandbox of 1 TiB: the tags
 * and table take 384 MiB of address space an index (the rows are in a file: `row-store.ts`).
 */
export const MAX_INDEXED_BLOBS = 2 ** 25;

/** The index's buffers, empty, each growing in place up to what MAX_INDEXED_BLOBS needs. */
export function growableIdBuffers(rows: RowStoreShare): IndexedIdBuffers {
  return {
    tags: new SharedArrayBuffer(0, { maxByteLength: MAX_INDEXED_BLOBS * 4 }),
    slots: new SharedArrayBuffer(0, { maxByteLength: MAX_INDEXED_BLOBS * 2 * 4 }),
    moves: new SharedArrayBuffer(4),
    rows,
  };
}

/**
 * Views of all of a growable buffer as it is now. Fixed-length, not length-tracking: V8 reads
 * through a view that tracks a growable buffer's length many times slower (a 32-byte compare 5
 * times, a scan 40), and an unchanged backup of the 1 GiB export spent about 135 ms in id lookups
 * against about 40. Whoever grows a buffer, or finds it grown, views it again.
 */
export function tagsView(buffer: SharedArrayBuffer): Uint32Array<SharedArrayBuffer> {
  return new Uint32Array(buffer, 0, buffer.byteLength / 4);
}

export function slotsView(buffer: SharedArrayBuffer): Int32Array<SharedArrayBuffer> {
  return new Int32Array(buffer, 0, buffer.byteLength / 4);
}

/** Grows `buffer` to `bytes`, or says plainly that the index outgrew what it can hold. */
export function growShared(buffer: SharedArrayBuffer, bytes: number): void {
  if (bytes <= buffer.byteLength) return;
  if (bytes > buffer.maxByteLength) throw new RangeError(`the index cannot hold more than ${MAX_INDEXED_BLOBS} blobs: back up into a new repository from here on`);
  buffer.grow(bytes);
}

/** What a crypto worker reads of the index: whether it holds an id. */
export class IndexedIds {
  private tags: Uint32Array<SharedArrayBuffer>;
  private slots: Int32Array<SharedArrayBuffer>;
  private readonly moves: Int32Array;
  private readonly rows: RowReader;

  private constructor(private readonly buffers: IndexedIdBuffers) {
    this.tags = tagsView(buffers.tags);
    this.slots = slotsView(buffers.slots);
    this.moves = new Int32Array(buffers.moves);
    this.rows = new RowReader(buffers.rows);
  }

  static attach(buffers: IndexedIdBuffers): IndexedIds {
    if (!buffers.tags.growable || !buffers.slots.growable) throw new RangeError('the index ids are shared in growable buffers');
    const slots = buffers.slots.byteLength / 4;
    if (slots === 0 || (slots & (slots - 1)) !== 0) throw new RangeError('an index id table has a power of two of slots');
    if (buffers.moves.byteLength !== 4) throw new RangeError('an index id table has one counter of its moves');
    return new IndexedIds(buffers);
  }

  has(id: Uint8Array): boolean {
    if (id.length !== ID_BYTES) return false;
    for (;;) {
      const before = Atomics.load(this.moves, 0);
      // The table is being filled again (milliseconds, a few times a backup): sleep until it is.
      if ((before & 1) === 1) {
        Atomics.wait(this.moves, 0, before);
        continue;
      }
      this.viewGrowth();
      if (findIdRow(this.tags, this.slots, this.rows, id, 0) >= 0) return true;
      if (Atomics.load(this.moves, 0) === before) return false;
    }
  }

  /** Views the buffers again where they grew since (the table only between moves: see `has`). */
  private viewGrowth(): void {
    if (this.buffers.tags.byteLength !== this.tags.byteLength) this.tags = tagsView(this.buffers.tags);
    if (this.buffers.slots.byteLength !== this.slots.byteLength) this.slots = slotsView(this.buffers.slots);
  }
}
