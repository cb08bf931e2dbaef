/**
 * A set of blob ids, 32 bytes each in one growing array with an
 * open-addressing table over them. What a check or prune collects of every
 * kept snapshot is every data blob it uses: for a chat database that is
 * hundreds of thousands of ids, which as a `Set` of hex strings took about 100
 * bytes each on the main thread's heap (22 MB for the 3 GiB export), and
 * here takes about 50 outside it.
 */
import { hexInto, ID_BYTES, idSlot, type BlobKey } from '../crypto/ids.js';
import type { ChunkList } from './chunk-list.js';

export class BlobIdSet {
  private ids = new Uint8Array(1024 * ID_BYTES);
  private count = 0;
  /** Index + 1 of each id in `ids`; 0 is an empty slot. At most half full. */
  private slots = new Int32Array(2048);
  private readonly scratch = new Uint8Array(ID_BYTES);

  get size(): number {
    return this.count;
  }

  /** Adds an id (32 bytes, or 64 lowercase hex digits); false when it was there already. */
  add(id: BlobKey): boolean {
    return this.addAt(this.bytesOf(id), 0);
  }

  private addAt(bytes: Uint8Array, at: number): boolean {
    if (this.find(bytes, at) >= 0) return false;
    if ((this.count + 1) * ID_BYTES > this.ids.length) {
      const bigger = new Uint8Array(this.ids.length * 2);
      bigger.set(this.ids);
      this.ids = bigger;
    }
    this.ids.set(bytes.subarray(at, at + ID_BYTES), this.count * ID_BYTES);
    this.count++;
    if (this.count * 2 > this.slots.length) this.rehash(this.slots.length * 2);
    else this.place(this.count - 1);
    return true;
  }

  /** Adds every id of a chunk list, read in place. */
  addAll(list: ChunkList): void {
    const bytes = list.bytes();
    for (let at = 0; at < bytes.length; at += ID_BYTES) this.addAt(bytes, at);
  }

  /** Keeps only the ids `keep` says to, in place (the set's memory is used again, not replaced). */
  retainWhere(keep: (id: Uint8Array) => boolean): void {
    let kept = 0;
    for (let i = 0; i < this.count; i++) {
      if (!keep(this.ids.subarray(i * ID_BYTES, (i + 1) * ID_BYTES))) continue;
      if (kept !== i) this.ids.copyWithin(kept * ID_BYTES, i * ID_BYTES, (i + 1) * ID_BYTES);
      kept++;
    }
    this.count = kept;
    this.slots.fill(0);
    for (let i = 0; i < kept; i++) this.place(i);
  }

  has(id: BlobKey): boolean {
    return this.find(this.bytesOf(id), 0) >= 0;
  }

  /** Every id, in the order added, as a view valid until the next `add`. */
  *[Symbol.iterator](): Iterator<Uint8Array> {
    for (let i = 0; i < this.count; i++) yield this.ids.subarray(i * ID_BYTES, (i + 1) * ID_BYTES);
  }

  private bytesOf(id: BlobKey): Uint8Array {
    if (typeof id !== 'string') {
      if (id.length !== ID_BYTES) throw new RangeError(`a blob id is ${ID_BYTES} bytes, not ${id.length}`);
      return id;
    }
    if (!hexInto(id, this.scratch, 0)) throw new RangeError('a blob id is 64 lowercase hex digits');
    return this.scratch;
  }

  private find(bytes: Uint8Array, at: number): number {
    const mask = this.slots.length - 1;
    for (let s = idSlot(bytes, at, mask); ; s = (s + 1) & mask) {
      const i = this.slots[s]! - 1;
      if (i < 0) return -1;
      if (this.equalsAt(i, bytes, at)) return i;
    }
  }

  private place(i: number): void {
    const mask = this.slots.length - 1;
    let s = idSlot(this.ids, i * ID_BYTES, mask);
    while (this.slots[s] !== 0) s = (s + 1) & mask;
    this.slots[s] = i + 1;
  }

  private rehash(size: number): void {
    this.slots = new Int32Array(size);
    for (let i = 0; i < this.count; i++) this.place(i);
  }

  private equalsAt(i: number, bytes: Uint8Array, at: number): boolean {
    const o = i * ID_BYTES;
    for (let k = 0; k < ID_BYTES; k++) if (this.ids[o + k] !== bytes[at + k]) return false;
    return true;
  }
}
