/**
 * JSON text written straight into bytes, for documents of tens of thousands
 * of entries that already sit in typed arrays (an index file of a database's
 * pages): building objects and strings for `JSON.stringify` kept them alive
 * long enough to be promoted, and the main thread's old generation filled
 * with garbage only a full collection frees. Callers write the punctuation
 * and keys themselves; this only appends text, quoted hex and integers.
 */
const HEX_DIGITS = Buffer.from('0123456789abcdef', 'latin1');
const QUOTE = 0x22;
const ZERO = 0x30;

export class JsonBytes {
  private buf: Buffer;
  private at = 0;

  /** `expected`: how many bytes the document will take, or about (it grows past that if needed). */
  constructor(expected: number) {
    this.buf = Buffer.allocUnsafeSlow(expected);
  }

  /** Text that needs no escaping: punctuation, keys, hex names. */
  ascii(text: string): this {
    this.room(text.length);
    this.at += this.buf.write(text, this.at, 'latin1');
    return this;
  }

  /** JSON text that may hold any character (a `JSON.stringify` result), as UTF-8. */
  utf8(json: string): this {
    this.room(Buffer.byteLength(json, 'utf8'));
    this.at += this.buf.write(json, this.at, 'utf8');
    return this;
  }

  /** `bytes[start, end)` as a JSON string of lowercase hex digits. */
  hexString(bytes: Uint8Array, start: number, end: number): this {
    this.room(2 * (end - start) + 2);
    const buf = this.buf;
    let o = this.at;
    buf[o++] = QUOTE;
    for (let i = start; i < end; i++) {
      const b = bytes[i]!;
      buf[o++] = HEX_DIGITS[b >> 4]!;
      buf[o++] = HEX_DIGITS[b & 15]!;
    }
    buf[o++] = QUOTE;
    this.at = o;
    return this;
  }

  /** A non-negative safe integer, as `JSON.stringify` writes it. */
  uint(n: number): this {
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`JsonBytes.uint: ${n} is not a non-negative safe integer`);
    let digits = 1;
    for (let x = n; x >= 10; x = Math.floor(x / 10)) digits++;
    this.room(digits);
    let x = n;
    for (let i = this.at + digits - 1; i >= this.at; i--) {
      this.buf[i] = ZERO + (x % 10);
      x = Math.floor(x / 10);
    }
    this.at += digits;
    return this;
  }

  /** The document so far (a view: no more writes after taking it). */
  bytes(): Buffer {
    return this.buf.subarray(0, this.at);
  }

  private room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafeSlow(Math.max(this.buf.length * 2, this.at + n));
    this.buf.copy(bigger, 0, 0, this.at);
    this.buf = bigger;
  }
}
