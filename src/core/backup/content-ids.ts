/**
 * The ids of one file's chunks, in file order, filled in as the crypto
 * workers answer (batches may come back in any order). One object per file
 * instead of a promise per chunk: a chat database is tens of thousands of
 * chunks.
 */
export class ContentIds {
  private readonly ids: string[] = [];
  private remaining = 0;
  private closed = false;
  private error: unknown = null;
  private settle: { resolve: (ids: string[]) => void; reject: (e: unknown) => void } | null = null;

  /**
   * `previous`: the chunk ids of the file's previous version. Where the id at a position is the
   * same, that string is kept instead of the new one: a database that grew keeps most pages in
   * place, and its 157,000 ids (3 GiB export) held twice, the parent's and this backup's, were
   * 13 MB of the main thread's old generation.
   */
  constructor(private readonly previous: readonly string[] = []) {}

  /** Reserves the next position; its id arrives through `fill`. */
  reserve(): number {
    this.remaining++;
    return this.ids.push('') - 1;
  }

  fill(slot: number, hex: string): void {
    const before = this.previous[slot];
    this.ids[slot] = before === hex ? before : hex;
    this.remaining--;
    this.check();
  }

  fail(e: unknown): void {
    this.error ??= e;
    this.check();
  }

  /** No more chunks: resolves once every reserved id is known. */
  done(): Promise<string[]> {
    this.closed = true;
    const p = new Promise<string[]>((resolve, reject) => (this.settle = { resolve, reject }));
    // A failed backup reports its first error elsewhere; a file nobody awaits any more must not crash the process.
    p.catch(() => undefined);
    this.check();
    return p;
  }

  private check(): void {
    if (!this.closed || !this.settle) return;
    if (this.error !== null) this.settle.reject(this.error);
    else if (this.remaining === 0) this.settle.resolve(this.ids);
    else return;
    this.settle = null;
  }
}
