/**
 * Reads a byte range of a file in chunks while always holding back its last
 * `hold` bytes: the trailer (GCM tag, MD5, suffix) is only known to be the
 * trailer once the end of the file is reached, so it must never be fed to the
 * decipher as ciphertext by accident.
 */
import type { FileHandle } from 'node:fs/promises';

export class TailHoldingReader {
  private pos: number;
  private held: Buffer = Buffer.alloc(0);

  constructor(
    private readonly fh: FileHandle,
    start: number,
    private readonly end: number,
    private readonly hold: number,
    private readonly chunkSize: number,
  ) {
    this.pos = start;
  }

  /** Absolute file offset read so far. */
  get position(): number {
    return this.pos;
  }

  /** The next bytes that are certainly not the held tail, or null once the file is exhausted. */
  async next(): Promise<Buffer | null> {
    while (this.pos < this.end) {
      const chunk = await this.readExactly(Math.min(this.chunkSize, this.end - this.pos));
      const combined = this.held.length > 0 ? Buffer.concat([this.held, chunk]) : chunk;
      const cut = combined.length - this.hold;
      if (cut <= 0) {
        this.held = combined;
        continue;
      }
      // Copy the small tail so the big chunk can be handed on and freed independently.
      this.held = Buffer.from(combined.subarray(cut));
      return combined.subarray(0, cut);
    }
    return null;
  }

  /** The held-back last bytes (exactly `hold` of them when the range was long enough); valid after next() returned null. */
  tail(): Buffer {
    return this.held;
  }

  private async readExactly(length: number): Promise<Buffer> {
    const buf = Buffer.allocUnsafe(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await this.fh.read(buf, done, length - done, this.pos + done);
      if (bytesRead === 0) throw new FileShrankError();
      done += bytesRead;
    }
    this.pos += length;
    return buf;
  }
}

/** The file got shorter while it was being read (another program is writing it). */
export class FileShrankError extends Error {
  constructor() {
    super('the file got shorter while it was being read');
    this.name = 'FileShrankError';
  }
}
