/**
 * A file's chunk ids in file order, held as 32 bytes each in one byte array
 * instead of as 64-digit strings. A chat database is stored page by page, so
 * its listing is tens of thousands of ids (157,000 for the 3 GiB reference
 * export): as strings they were about 80 bytes each on the main thread's heap,
 * held through a whole restore plan, and twice (parent and new) through a
 * backup after the database grew. As bytes they are 32, outside the heap.
 *
 * In JSON (trees, snapshots, bundles) a list is still an array of hex strings:
 * `toJSON` gives that array, so the stored format does not change.
 */
import { hexInto, ID_BYTES } from '../crypto/ids.js';
import type { JsonBytes } from './json-bytes.js';

export class ChunkList implements Iterable<string> {
  static readonly EMPTY = new ChunkList(new Uint8Array(0), 0, 0);

  /** Ids `[first, first + length)` of `arena` (lists parsed from one tree share its arena). */
  private constructor(
    private readonly arena: Uint8Array,
    private readonly first: number,
    readonly length: number,
  ) {}

  /** Takes `bytes` (a whole number of ids) as the list, without copying. */
  static ofBytes(bytes: Uint8Array): ChunkList {
    if (bytes.length % ID_BYTES !== 0) throw new RangeError(`a chunk list is a multiple of ${ID_BYTES} bytes, not ${bytes.length}`);
    return bytes.length === 0 ? ChunkList.EMPTY : new ChunkList(bytes, 0, bytes.length / ID_BYTES);
  }

  /** From ids as 64 hex digits; throws on anything else (callers validate JSON first, to say where). */
  static ofHex(ids: readonly unknown[]): ChunkList {
    return ids.length === 0 ? ChunkList.EMPTY : new HexArena(ids.length).list(ids);
  }

  /** The `i`th id, as a view into the list's bytes (valid as long as the list). */
  id(i: number): Uint8Array {
    const at = this.offsetOf(i);
    return this.arena.subarray(at, at + ID_BYTES);
  }

  hex(i: number): string {
    const at = this.offsetOf(i);
    return Buffer.from(this.arena.buffer, this.arena.byteOffset + at, ID_BYTES).toString('hex');
  }

  /** The same ids in the same order. */
  equals(other: ChunkList): boolean {
    if (other === this) return true;
    if (other.length !== this.length) return false;
    const a = this.bytes();
    const b = other.bytes();
    return Buffer.from(a.buffer, a.byteOffset, a.length).equals(b);
  }

  /** All ids, 32 bytes each, as one view. */
  bytes(): Uint8Array {
    const at = this.first * ID_BYTES;
    return this.arena.subarray(at, at + this.length * ID_BYTES);
  }

  *[Symbol.iterator](): Iterator<string> {
    for (let i = 0; i < this.length; i++) yield this.hex(i);
  }

  toJSON(): string[] {
    return [...this];
  }

  /** Appends the JSON array `toJSON` gives, without making its strings. */
  writeJson(w: JsonBytes): void {
    w.ascii('[');
    const arena = this.arena;
    for (let i = 0; i < this.length; i++) {
      if (i > 0) w.ascii(',');
      const at = (this.first + i) * ID_BYTES;
      w.hexString(arena, at, at + ID_BYTES);
    }
    w.ascii(']');
  }

  /** Bytes of `writeJson`'s text. */
  get jsonLength(): number {
    return 2 + this.length * (ID_BYTES * 2 + 2) + Math.max(0, this.length - 1);
  }

  private offsetOf(i: number): number {
    if (!Number.isInteger(i) || i < 0 || i >= this.length) throw new RangeError(`chunk ${i} of a list of ${this.length}`);
    return (this.first + i) * ID_BYTES;
  }

  /** Ids `[first, first + length)` of `arena`, without copying: lists that share one array of ids. */
  static view(arena: Uint8Array, first: number, length: number): ChunkList {
    if (!Number.isInteger(first) || !Number.isInteger(length) || first < 0 || length < 0 || (first + length) * ID_BYTES > arena.length) {
      throw new RangeError(`ids ${first}..${first + length} of an array of ${arena.length / ID_BYTES}`);
    }
    return length === 0 ? ChunkList.EMPTY : new ChunkList(arena, first, length);
  }
}

/**
 * One byte array for the chunk lists of a whole parsed document (a tree of
 * thousands of media files): a list of one id then costs a small object, not
 * an array of its own.
 */
export class HexArena {
  private readonly arena: Uint8Array;
  private used = 0;

  constructor(ids: number) {
    this.arena = new Uint8Array(ids * ID_BYTES);
  }

  /** The next `ids.length` ids of the arena, filled from hex; throws on a malformed id. */
  list(ids: readonly unknown[]): ChunkList {
    const first = this.used;
    if (first + ids.length > this.arena.length / ID_BYTES) throw new RangeError('HexArena: more ids than it was made for');
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (typeof id !== 'string' || !hexInto(id, this.arena, (first + i) * ID_BYTES)) throw new TypeError(`chunk id ${i} is not 64 hex digits`);
    }
    this.used += ids.length;
    return ChunkList.view(this.arena, first, ids.length);
  }
}
