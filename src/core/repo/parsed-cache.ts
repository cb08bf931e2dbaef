/**
 * Parsed objects (trees, snapshots) kept for the rest of a run, bounded in
 * bytes as well as in count, and dropped least recently used first. The
 * caller says what an entry weighs: for a tree its plaintext, a fair measure
 * of its parsed size. A chat database's listing is one tree of all its chunk
 * ids (14 MB for a 3 GiB export), and with a bound in count only, the parent
 * snapshot's copy stayed beside the new one through a backup's verification
 * and prune.
 */
export class ParsedCache<T> {
  private readonly entries = new Map<string, { value: T; bytes: number }>();
  private total = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly maxEntries: number,
  ) {}

  get bytes(): number {
    return this.total;
  }

  get size(): number {
    return this.entries.size;
  }

  get(id: string): T | undefined {
    const e = this.entries.get(id);
    if (!e) return undefined;
    // A Map iterates in insertion order: moved to the end, it is dropped last.
    this.entries.delete(id);
    this.entries.set(id, e);
    return e.value;
  }

  clear(): void {
    this.entries.clear();
    this.total = 0;
  }

  /** Keeps `value` unless it alone exceeds the bound; older entries go to make room. */
  set(id: string, value: T, bytes: number): void {
    if (bytes > this.maxBytes || this.entries.has(id)) return;
    for (const [oldId, old] of this.entries) {
      if (this.entries.size < this.maxEntries && this.total + bytes <= this.maxBytes) break;
      this.entries.delete(oldId);
      this.total -= old.bytes;
    }
    this.entries.set(id, { value, bytes });
    this.total += bytes;
  }
}
