/**
 * The ids of one file's chunks, in file order, filled in as the crypto
 * workers answer (batches may come back in any order). One object per file
 * instead of a promise per chunk: a chat database is tens of thousands of
 * chunks. The ids are copied as bytes into one growing array, which becomes
 * the file's `ChunkList`.
 */
import { ID_BYTES } from '../crypto/ids.js';
import { ChunkList } from '../repo/chunk-list.js';

/** Room for this many ids at first: most files are one or a few chunks. */
const FIRST_CAPACITY = 4;

export class ContentIds {
  private bytes = new Uint8Array(FIRST_CAPACITY * ID_BYTES);
  private count = 0;
  private remaining = 0;
  private closed = false;
  private error: unknown = null;
  private settle: { resolve: (ids: ChunkList) => void; reject: (e: unknown) => void } | null = null;

  /** Reserves the next position; its id arrives through `fill`. */
  reserve(): number {
    if ((this.count + 1) * ID_BYTES > this.bytes.length) {
      const bigger = new Uint8Array(this.bytes.length * 2);
      bigger.set(this.bytes);
      this.bytes = bigger;
    }
    this.remaining++;
    return this.count++;
  }

  /** The id at `slot` is `from[at, at + 32)`. */
  fill(slot: number, from: Uint8Array, at: number): void {
    this.bytes.set(from.subarray(at, at + ID_BYTES), slot * ID_BYTES);
    this.remaining--;
    this.check();
  }

  fail(e: unknown): void {
    this.error ??= e;
    this.check();
  }

  /** No more chunks: resolves once every reserved id is known. */
  done(): Promise<ChunkList> {
    this.closed = true;
    const p = new Promise<ChunkList>((resolve, reject) => (this.settle = { resolve, reject }));
    // A failed backup reports its first error elsewhere; a file nobody awaits any more must not crash the process.
    p.catch(() => undefined);
    this.check();
    return p;
  }

  private check(): void {
    if (!this.closed || !this.settle) return;
    if (this.error !== null) this.settle.reject(this.error);
    // Kept for the rest of the backup: cut to size (a doubled array is up to twice the ids).
    else if (this.remaining === 0) this.settle.resolve(ChunkList.ofBytes(this.bytes.slice(0, this.count * ID_BYTES)));
    else return;
    this.settle = null;
  }
}
