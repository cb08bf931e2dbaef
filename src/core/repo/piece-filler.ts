/**
 * Fills byte fields in order from a stream handed over a piece at a time, so a document of fixed
 * fields (the local index cache) goes straight from each piece read into the arrays it ends in,
 * without a copy of the whole. A field's `then` runs once it is full and may ask for the next
 * fields, whose sizes the earlier ones give.
 */
export class PieceFiller {
  private readonly fields: Array<{ view: Uint8Array; filled: number; then: (() => void) | undefined }> = [];

  /** Asks for `view` to be filled after the fields asked for before it. */
  expect(view: Uint8Array, then?: () => void): void {
    this.fields.push({ view, filled: 0, then });
    this.settle();
  }

  /**
   * Copies `piece` into the fields in order. Returns false when it goes past the last field asked
   * for (the bytes past it are left out).
   */
  push(piece: Uint8Array): boolean {
    let at = 0;
    while (at < piece.length) {
      const field = this.fields[0];
      if (!field) return false;
      const n = Math.min(field.view.length - field.filled, piece.length - at);
      field.view.set(piece.subarray(at, at + n), field.filled);
      field.filled += n;
      at += n;
      this.settle();
    }
    return true;
  }

  /** Whether every field asked for is full. */
  get complete(): boolean {
    return this.fields.length === 0;
  }

  /** Ends the fields that are full, in order (an empty one at once). */
  private settle(): void {
    while (this.fields.length > 0 && this.fields[0]!.filled === this.fields[0]!.view.length) {
      this.fields.shift()!.then?.();
    }
  }
}
