/**
 * JSON text written straight into bytes, for documents of tens of thousands
 * of entries that already sit in typed arrays (an index file of a database's
 * pages): building objects and strings for `JSON.stringify` kept them alive
 * long enough to be promoted, and the main thread's old generation filled
 * with garbage only a full collection frees. Callers write the punctuation
 * and keys themselves; this only appends text, quoted hex and integers.
 *
 * The text goes either into one buffer (`bytes`), or out in pieces of at most
 * PIECE_BYTES to a sink as it is written (`JsonDocument`): an index file of a
 * database's pages is 7 MiB of JSON, and compressing it whole took that, a
 * compression buffer as large, and the compressed copy, at once.
 */
const HEX_DIGITS = Buffer.from('0123456789abcdef', 'latin1');
const QUOTE = 0x22;
const ZERO = 0x30;

/** What a sink is handed at a time: small enough to stay in the allocator's recycled memory. */
export const PIECE_BYTES = 64 * 1024;

/** Takes each piece of a document as it is written; a piece is valid only during the call. */
export type PieceSink = (piece: Uint8Array) => void;

/** Fixed text encoded once, for `JsonBytes.raw`. */
export function asciiBytes(text: string): Uint8Array {
  return Buffer.from(text, 'latin1');
}

export class JsonBytes {
  private buf: Buffer;
  private at = 0;
  /** Bytes already handed to the sink. */
  private handed = 0;

  /**
   * `expected`: how many bytes the document will take, or about (it grows past that if needed).
   * With a `sink`, the buffer is one piece, handed over whenever the next text would not fit.
   */
  constructor(
    expected: number,
    private readonly sink?: PieceSink,
    private readonly counting = false,
  ) {
    this.buf = Buffer.allocUnsafeSlow(counting ? 0 : sink ? PIECE_BYTES : expected);
  }

  /**
   * A writer that only counts the bytes it is given, for `jsonDocument`'s first pass. Writing the
   * text only to learn its length was half of storing an index file: 0.12 s of a 1 GiB first
   * backup's main thread, the busy thread while the media are stored, and again in each prune
   * that rewrites a large index file. A flag and not a subclass: with two classes of writer, the
   * calls in an index file's loop see two shapes, and in a profile the writing pass took twice as long.
   */
  static counter(): JsonBytes {
    return new JsonBytes(0, undefined, true);
  }

  /** Bytes written so far, those handed to the sink included. */
  get length(): number {
    return this.handed + this.at;
  }

  /** Text that needs no escaping: punctuation, keys, hex names. */
  ascii(text: string): this {
    if (this.counting) return this.count(text.length); // latin1: a byte a character
    this.room(text.length);
    this.at += this.buf.write(text, this.at, 'latin1');
    return this;
  }

  /**
   * Text already encoded (`asciiBytes`): a blob's entry in an index file is five pieces of fixed
   * text, and encoding each from a string again was a third of writing the file.
   */
  raw(text: Uint8Array): this {
    const n = text.length;
    if (this.counting) return this.count(n);
    this.room(n);
    const buf = this.buf;
    const at = this.at;
    for (let i = 0; i < n; i++) buf[at + i] = text[i]!;
    this.at = at + n;
    return this;
  }

  /** `from[start, end)`, JSON text already (a document being rewritten in part). */
  copy(from: Buffer, start: number, end: number): this {
    if (this.counting) return this.count(from.subarray(start, end).length);
    this.room(end - start);
    this.at += from.copy(this.buf, this.at, start, end);
    return this;
  }

  /** JSON text that may hold any character (a `JSON.stringify` result), as UTF-8. */
  utf8(json: string): this {
    if (this.counting) return this.count(Buffer.byteLength(json, 'utf8'));
    this.room(Buffer.byteLength(json, 'utf8'));
    this.at += this.buf.write(json, this.at, 'utf8');
    return this;
  }

  /** `bytes[start, end)` as a JSON string of lowercase hex digits. */
  hexString(bytes: Uint8Array, start: number, end: number): this {
    if (this.counting) return this.count(2 * (end - start) + 2);
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
    checkUint(n);
    if (n > 0x7fffffff) return this.ascii(String(n));
    const digits = digitsOf(n);
    if (this.counting) return this.count(digits);
    this.room(digits);
    const buf = this.buf;
    let x = n;
    for (let i = this.at + digits - 1; i >= this.at; i--) {
      const q = (x / 10) | 0;
      buf[i] = ZERO + (x - q * 10);
      x = q;
    }
    this.at += digits;
    return this;
  }

  /** The document so far (a view: no more writes after taking it). */
  bytes(): Buffer {
    if (this.counting) throw new Error('JsonBytes.bytes: a counter holds no text');
    if (this.sink) throw new Error('JsonBytes.bytes: this document went to a sink');
    return this.buf.subarray(0, this.at);
  }

  /** Hands what is left to the sink; returns the document's length. */
  end(): number {
    if (!this.counting) this.handOver();
    return this.handed;
  }

  private count(n: number): this {
    this.handed += n;
    return this;
  }

  private handOver(): void {
    if (!this.sink) throw new Error('JsonBytes.end: this document has no sink');
    if (this.at > 0) this.sink(this.buf.subarray(0, this.at));
    this.handed += this.at;
    this.at = 0;
  }

  private room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    if (this.sink) {
      this.handOver();
      if (n <= this.buf.length) return;
    }
    const bigger = Buffer.allocUnsafeSlow(Math.max(this.buf.length * 2, this.at + n));
    this.buf.copy(bigger, 0, 0, this.at);
    this.buf = bigger;
  }
}

function checkUint(n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`JsonBytes.uint: ${n} is not a non-negative safe integer`);
}

/** The decimal digits of `n` (at most 0x7fffffff): integer division, not floating point, for each. */
function digitsOf(n: number): number {
  let digits = 1;
  for (let x = n; x >= 10; x = (x / 10) | 0) digits++;
  return digits;
}

/**
 * A JSON document that can be written out again, in pieces, as many times as
 * needed: once to learn its length, which a zstd frame header records (readers
 * size their output by it), then to be compressed as it is written.
 */
export interface JsonDocument {
  readonly byteLength: number;
  writeTo(sink: PieceSink): void;
}

/**
 * The document `write` writes. It is counted once here (`JsonBytes.counter`); `write` must write the
 * same text every time (it reads state that must not change while the document is in use), and a
 * document found to differ when written again is an error, not a silently wrong file.
 */
export function jsonDocument(write: (w: JsonBytes) => void): JsonDocument {
  const counter = JsonBytes.counter();
  write(counter);
  const byteLength = counter.end();
  return {
    byteLength,
    writeTo(sink) {
      const w = new JsonBytes(0, sink);
      write(w);
      const n = w.end();
      if (n !== byteLength) throw new Error(`a JSON document of ${byteLength} bytes was written again as ${n}`);
    },
  };
}

/** A document's text in one buffer: for small documents, the fallback for incompressible ones, and tests. */
export function documentBytes(doc: JsonDocument): Buffer {
  const out = Buffer.allocUnsafeSlow(doc.byteLength);
  let at = 0;
  doc.writeTo((piece) => {
    out.set(piece, at);
    at += piece.length;
  });
  return out;
}
