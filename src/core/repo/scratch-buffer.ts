/**
 * A buffer reused from call to call, for work whose output is consumed at once (compressing a
 * blob before it is sealed, decrypting one before it is decompressed).
 *
 * It is kept only up to `keep` bytes. Requests are mostly file chunks (4 MiB at most), but a
 * chat database's directory listing is one blob of about 67 bytes per 4 KiB page: 10 MiB for the
 * 3 GiB reference export. Kept at that size, the buffer stayed resident for the rest of the
 * backup, so the peak grew with the database. A larger request now gets a buffer of its own,
 * which goes with the call.
 */
export class ScratchBuffer {
  private buf = Buffer.alloc(0);

  constructor(private readonly keep: number) {}

  /**
   * A buffer of at least `bytes` bytes, valid until the next call. `grow: false` for requests that
   * come once in a while (a directory listing): one that does not fit the buffer as it is gets a
   * buffer of its own. A database's listing is 3.4 MB at 1 GiB, under `keep`, and the buffer a
   * backup's crypto worker had grown to it stayed to the end of the run, where file chunks need a
   * few KiB (a database's pages) or no compression at all (media).
   */
  take(bytes: number, grow = true): Buffer {
    if (bytes > this.keep || (!grow && bytes > this.buf.length)) return Buffer.allocUnsafeSlow(bytes);
    if (this.buf.length < bytes) this.buf = Buffer.allocUnsafeSlow(bytes);
    return this.buf;
  }
}
