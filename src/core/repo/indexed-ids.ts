/**
 * The index's blob ids and the open-addressing table over them, laid out so
 * that a backup's crypto workers read them where the main thread keeps them.
 *
 * MasterIndex holds its ids (32 bytes a row) and its table (row + 1 per slot,
 * 0 empty, a power of two at most half full) in shared memory, and a worker
 * attaches to the same buffers to tell a chunk the repository holds before
 * sealing it. Before, each backup built a second table of the known ids for
 * the workers, and each worker kept a third of the ids it sealed: for the
 * 220,000 blobs of the 3 GiB bench export, 4.5 and 6 MiB beside the index's
 * own 10.
 *
 * The main thread goes on adding packs while a worker reads, without locks:
 * - It writes a row's id before the slot naming the row, and a full buffer
 *   is replaced by a new one, never written again. A worker holding older
 *   buffers sees a consistent, older index, and gets the new buffers with its
 *   next request.
 * - A reader that sees a slot before its row's bytes (the writes of another
 *   thread may arrive in any order) finds no match and goes on probing: at
 *   worst it takes a stored chunk for a new one, and seals it again; the
 *   index keeps the first copy and prune drops the other. It can never take a
 *   new chunk for a stored one: that needs all 32 bytes of the id in the row.
 */
import { ID_BYTES, idSlot } from '../crypto/ids.js';

export interface IndexedIdBuffers {
  readonly ids: SharedArrayBuffer;
  readonly slots: SharedArrayBuffer;
}

/** The row holding the id at `bytes[at, at + 32)`, or -1. */
export function findIdRow(ids: Uint8Array, slots: Int32Array, bytes: Uint8Array, at: number): number {
  const mask = slots.length - 1;
  // The table is at most half full, so an empty slot ends every probe; the bound is for a reader's safety.
  for (let s = idSlot(bytes, at, mask), n = 0; n < slots.length; s = (s + 1) & mask, n++) {
    const row = slots[s]! - 1;
    if (row < 0) return -1;
    if (idAt(ids, row, bytes, at)) return row;
  }
  return -1;
}

function idAt(ids: Uint8Array, row: number, bytes: Uint8Array, at: number): boolean {
  const o = row * ID_BYTES;
  if (o + ID_BYTES > ids.length) return false;
  for (let i = 0; i < ID_BYTES; i++) if (ids[o + i] !== bytes[at + i]) return false;
  return true;
}

/** Room for ids in shared memory, holding `from`'s bytes first. */
export function sharedIdBytes(length: number, from?: Uint8Array): Uint8Array<SharedArrayBuffer> {
  const a = new Uint8Array(new SharedArrayBuffer(length));
  if (from) a.set(from);
  return a;
}

/** An id table of `count` slots in shared memory, holding `from`'s first. */
export function sharedSlots(count: number, from?: Int32Array): Int32Array<SharedArrayBuffer> {
  const a = new Int32Array(new SharedArrayBuffer(count * 4));
  if (from) a.set(from);
  return a;
}

/** What a crypto worker reads of the index: whether it holds an id. */
export class IndexedIds {
  private constructor(
    private readonly ids: Uint8Array,
    private readonly slots: Int32Array,
  ) {}

  static attach(buffers: IndexedIdBuffers): IndexedIds {
    const slots = new Int32Array(buffers.slots);
    if (slots.length === 0 || (slots.length & (slots.length - 1)) !== 0) throw new RangeError('an index id table has a power of two of slots');
    return new IndexedIds(new Uint8Array(buffers.ids), slots);
  }

  has(id: Uint8Array): boolean {
    return id.length === ID_BYTES && findIdRow(this.ids, this.slots, id, 0) >= 0;
  }
}
