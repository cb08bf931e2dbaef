/**
 * The set of blob ids a repository already holds, in shared memory, so the
 * crypto workers can tell a known chunk at once and skip sealing it (most of
 * the chunks of a database that grew by 1% are known). Open addressing over
 * 32-byte ids; written once by the main thread before a backup, then only read.
 */
export class KnownIdTable {
  private readonly slots: number;
  private readonly bytes: Uint8Array;

  private constructor(readonly buffer: SharedArrayBuffer) {
    this.bytes = new Uint8Array(buffer);
    this.slots = buffer.byteLength / 32;
  }

  static build(ids: Iterable<Uint8Array>, count: number): KnownIdTable {
    // At most three quarters full: a lookup of a new id then probes about eight slots at worst, each
    // told apart by its first byte, and a 3 GiB export's table takes 8 MiB instead of 16 at half full.
    let slots = 16;
    while (slots * 3 < count * 4) slots *= 2;
    const table = new KnownIdTable(new SharedArrayBuffer(slots * 32));
    for (const id of ids) table.insert(id);
    return table;
  }

  static attach(buffer: SharedArrayBuffer): KnownIdTable {
    return new KnownIdTable(buffer);
  }

  /** Ids are keyed hashes, so their first bytes are uniformly spread: they are the hash. */
  private start(id: Uint8Array): number {
    return ((id[0]! | (id[1]! << 8) | (id[2]! << 16) | (id[3]! << 24)) >>> 0) & (this.slots - 1);
  }

  private isEmpty(slot: number): boolean {
    const o = slot * 32;
    for (let i = 0; i < 32; i++) if (this.bytes[o + i] !== 0) return false;
    return true;
  }

  private matches(slot: number, id: Uint8Array): boolean {
    const o = slot * 32;
    for (let i = 0; i < 32; i++) if (this.bytes[o + i] !== id[i]) return false;
    return true;
  }

  private insert(id: Uint8Array): void {
    for (let s = this.start(id), n = 0; n < this.slots; s = (s + 1) & (this.slots - 1), n++) {
      if (this.isEmpty(s)) {
        this.bytes.set(id, s * 32);
        return;
      }
      if (this.matches(s, id)) return;
    }
  }

  has(id: Uint8Array): boolean {
    for (let s = this.start(id), n = 0; n < this.slots; s = (s + 1) & (this.slots - 1), n++) {
      if (this.isEmpty(s)) return false;
      if (this.matches(s, id)) return true;
    }
    return false;
  }
}
