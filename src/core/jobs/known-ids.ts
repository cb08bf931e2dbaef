/**
 * The set of blob ids a repository already holds, in shared memory, so the
 * crypto workers can tell a known chunk at once and skip sealing it (most of
 * the chunks of a database that grew by 1% are known). Open addressing over
 * the ids' first 16 bytes; written once by the main thread before a backup,
 * then only read.
 *
 * Why 16 bytes and not all 32: the table is the largest thing a backup after
 * a small change allocates for the repository's size (with whole ids, 16 MiB
 * for a 3 GiB export's 220,000 blobs; 8 now), and ids are keyed hashes,
 * uniformly spread and beyond an attacker's reach without the key. Two ids of
 * different chunks sharing 16 bytes is a 128-bit collision (about 2^-88 for a
 * backup of a million chunks against a repository of a million). Were it to
 * happen, the chunk would be taken as stored, and the backup's verification,
 * which looks up every full id in the index, would fail the backup rather
 * than lose data.
 */
import { idSlot } from '../crypto/ids.js';

export class KnownIdTable {
  private readonly slots: number;
  private readonly bytes: Uint8Array;

  private constructor(readonly buffer: SharedArrayBuffer) {
    this.bytes = new Uint8Array(buffer);
    this.slots = buffer.byteLength / KNOWN_ID_BYTES;
  }

  get slotCount(): number {
    return this.slots;
  }

  static build(ids: Iterable<Uint8Array>, count: number): KnownIdTable {
    // Three quarters full: a lookup of a new id then probes about eight slots, each told apart by its
    // first byte. Any number of slots, not a power of two (which left the table between three
    // quarters and three eighths full: 8 MiB for the 220,000 ids of the 3 GiB export, 4.7 now).
    const slots = Math.max(MIN_SLOTS, Math.ceil((count * 4) / 3));
    const table = new KnownIdTable(new SharedArrayBuffer(slots * KNOWN_ID_BYTES));
    for (const id of ids) table.insert(id);
    return table;
  }

  static attach(buffer: SharedArrayBuffer): KnownIdTable {
    return new KnownIdTable(buffer);
  }

  /**
   * Ids are keyed hashes, so their first four bytes are a uniform 32-bit number: scaled to the
   * table's size (multiply and shift, not a mask, since the size is not a power of two).
   */
  private start(id: Uint8Array): number {
    return Math.floor((idSlot(id, 0, 0xffffffff) >>> 0) * (this.slots / 2 ** 32));
  }

  private next(slot: number): number {
    return slot + 1 === this.slots ? 0 : slot + 1;
  }

  private isEmpty(slot: number): boolean {
    const o = slot * KNOWN_ID_BYTES;
    for (let i = 0; i < KNOWN_ID_BYTES; i++) if (this.bytes[o + i] !== 0) return false;
    return true;
  }

  private matches(slot: number, id: Uint8Array): boolean {
    const o = slot * KNOWN_ID_BYTES;
    for (let i = 0; i < KNOWN_ID_BYTES; i++) if (this.bytes[o + i] !== id[i]) return false;
    return true;
  }

  private insert(id: Uint8Array): void {
    for (let s = this.start(id), n = 0; n < this.slots; s = this.next(s), n++) {
      if (this.isEmpty(s)) {
        this.bytes.set(id.subarray(0, KNOWN_ID_BYTES), s * KNOWN_ID_BYTES);
        return;
      }
      if (this.matches(s, id)) return;
    }
  }

  has(id: Uint8Array): boolean {
    for (let s = this.start(id), n = 0; n < this.slots; s = this.next(s), n++) {
      if (this.isEmpty(s)) return false;
      if (this.matches(s, id)) return true;
    }
    return false;
  }
}

const MIN_SLOTS = 16;

/** Bytes of each id the table keeps (see the class comment); a crypto worker's set of the ids it sealed keeps as many. */
export const KNOWN_ID_BYTES = 16;
