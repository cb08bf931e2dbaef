/**
 * The chunk ids of one directory's files, in order, filled in as the crypto workers answer
 * (batches may come back in any order). A directory's files are read one after another, so each
 * file's ids are one run of this array, and a file needs no object of its own until the
 * directory ends.
 *
 * Why per directory and not per file: a chat export's thumbnails folder holds thousands of
 * files in one directory (11,345 in the 3 GiB reference export), all waiting for the directory's
 * listing. A promise, a growing array and a list object per file cost about 600 bytes each; the
 * whole folder's ids are now one array, and each file's list a view of it.
 */
import { ID_BYTES } from '../crypto/ids.js';

/** Room for this many ids at first: most directories are a few small files. */
const FIRST_CAPACITY = 16;

/** Where a batch's worker answers put each chunk's id: a position reserved as the chunk is sent, filled when its id comes back. */
export interface IdSink {
  reserve(): number;
  /** The id at `slot` is `from[at, at + 32)`. */
  fill(slot: number, from: Uint8Array, at: number): void;
  fail(e: unknown): void;
}

/**
 * What every sink's `done` is: settled once, when no more chunks come and every reserved id is
 * known (`complete`, then `result`), or with the first failure.
 */
export abstract class SettledIdSink<T> implements IdSink {
  protected closed = false;
  private error: unknown = null;
  private settle: { resolve: (result: T) => void; reject: (e: unknown) => void } | null = null;

  abstract reserve(): number;
  abstract fill(slot: number, from: Uint8Array, at: number): void;

  fail(e: unknown): void {
    this.error ??= e;
    this.check();
  }

  /** No more chunks: resolves once every id is known. */
  done(): Promise<T> {
    this.closed = true;
    const p = new Promise<T>((resolve, reject) => (this.settle = { resolve, reject }));
    // A failed backup reports its first error elsewhere; ids nobody awaits any more must not crash the process.
    p.catch(() => undefined);
    this.check();
    return p;
  }

  /** Settles `done` if it is due; called after every id that comes. */
  protected check(): void {
    if (!this.closed || !this.settle) return;
    const settle = this.settle;
    if (this.error === null && !this.complete()) return;
    this.settle = null;
    if (this.error !== null) return settle.reject(this.error);
    try {
      settle.resolve(this.result());
    } catch (e) {
      settle.reject(e);
    }
  }

  /** Every id reserved is known. */
  protected abstract complete(): boolean;
  protected abstract result(): T;
}

export class DirectoryIds extends SettledIdSink<Uint8Array> {
  private bytes = new Uint8Array(FIRST_CAPACITY * ID_BYTES);
  /** 1 where the id has come: ids come back a batch at a time, and batches in any order. */
  private filled = new Uint8Array(FIRST_CAPACITY);
  private count = 0;
  private remaining = 0;
  private leading = 0;

  /** How many ids are reserved so far: where the next file's run starts. */
  get length(): number {
    return this.count;
  }

  /**
   * Room for `more` ids to come, at once: a database's pages are known in number before it is read.
   * Grown by doubling, the 157,000 ids of the 3 GiB export's database were copied fourteen times,
   * into arrays of up to 8 MiB, and left the outgrown ones to the collector. (Its backups peaked
   * alike either way, three alternating runs each: their highest moment is elsewhere.)
   */
  expect(more: number): void {
    this.growTo(this.count + more);
  }

  /** Reserves the next position; its id arrives through `fill`. */
  reserve(): number {
    if (this.closed) throw new Error('DirectoryIds: a chunk after done()');
    this.growTo(this.count + 1);
    this.remaining++;
    return this.count++;
  }

  /**
   * How many ids from the first are known: a file whose run ends there can be listed now
   * (`FolderListing`), though ids after it are still to come.
   */
  get known(): number {
    return this.leading;
  }

  /** The array the ids are in now, 32 bytes each in order (replaced as it grows); those from `known` on may not have come yet. */
  get current(): Uint8Array {
    return this.bytes;
  }

  private growTo(ids: number): void {
    if (ids * ID_BYTES <= this.bytes.length) return;
    const capacity = Math.max(this.bytes.length / ID_BYTES * 2, ids);
    const bigger = new Uint8Array(capacity * ID_BYTES);
    bigger.set(this.bytes.subarray(0, this.count * ID_BYTES));
    this.bytes = bigger;
    const flags = new Uint8Array(capacity);
    flags.set(this.filled.subarray(0, this.count));
    this.filled = flags;
  }

  /** The id at `slot` is `from[at, at + 32)`. */
  fill(slot: number, from: Uint8Array, at: number): void {
    this.bytes.set(from.subarray(at, at + ID_BYTES), slot * ID_BYTES);
    this.filled[slot] = 1;
    while (this.leading < this.count && this.filled[this.leading] === 1) this.leading++;
    this.remaining--;
    this.check();
  }

  protected complete(): boolean {
    return this.remaining === 0;
  }

  /**
   * All the ids, 32 bytes each in order. A view, not a copy cut to size: the array lives only until
   * the directory's listing is written, and a copy would hold both at once (5 and 8 MiB for a 600 MB
   * database's pages).
   */
  protected result(): Uint8Array {
    return this.bytes.subarray(0, this.count * ID_BYTES);
  }
}
