/**
 * Streaming AEAD for bundles (the construction of Tink's AES-GCM-HKDF
 * streaming and age's STREAM): the payload is cut into segments of equal
 * size, each sealed with AES-256-GCM under a per-bundle key, with a nonce made
 * of a random prefix, the segment's index and a flag marking the last
 * segment. Reordered, dropped, duplicated or truncated segments fail to open;
 * a stream that ends without a segment flagged last is truncated.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { copyBytes } from '../jobs/copy-bytes.js';
import { IntegrityError } from '../errors.js';
import { TAG_BYTES, updateInSteps } from '../crypto/aead.js';

export const SEGMENT_BYTES = 1024 * 1024;
export const NONCE_PREFIX_BYTES = 7;

function nonceFor(prefix: Buffer, index: number, last: boolean): Buffer {
  const nonce = Buffer.alloc(12);
  prefix.copy(nonce, 0);
  nonce.writeUInt32BE(index, 7);
  nonce[11] = last ? 1 : 0;
  return nonce;
}

export class SegmentSealer {
  /** The segment being filled, sealed once a byte beyond it arrives (only the last one is flagged). */
  private readonly segment = Buffer.allocUnsafe(SEGMENT_BYTES);
  private filled = 0;
  private index = 0;

  constructor(
    private readonly key: Buffer,
    private readonly prefix: Buffer,
    private readonly aad: Buffer,
  ) {}

  /** Adds plaintext, copied at once; returns the sealed bytes of the segments it completes (never the last one). */
  push(...parts: Uint8Array[]): Buffer[] {
    const out: Buffer[] = [];
    for (const data of parts) {
      for (let at = 0; at < data.length; ) {
        // A full segment is sealed only now that a byte follows it: the last one must be flagged.
        if (this.filled === SEGMENT_BYTES) this.seal(false, out);
        const n = Math.min(SEGMENT_BYTES - this.filled, data.length - at);
        // An export's chunks come in shared memory (`copyBytes`).
        copyBytes(this.segment, this.filled, data.subarray(at, at + n));
        this.filled += n;
        at += n;
      }
    }
    return out;
  }

  /** The last segment's sealed bytes (empty only when the whole payload is). */
  final(): Buffer[] {
    const out: Buffer[] = [];
    this.seal(true, out);
    return out;
  }

  private seal(last: boolean, out: Buffer[]): void {
    const c = createCipheriv('aes-256-gcm', this.key, nonceFor(this.prefix, this.index++, last));
    c.setAAD(this.aad);
    updateInSteps(c, this.segment.subarray(0, this.filled), (piece) => out.push(piece));
    out.push(c.final(), c.getAuthTag());
    this.filled = 0;
  }
}

const SEALED_SEGMENT_BYTES = SEGMENT_BYTES + TAG_BYTES;

export class SegmentOpener {
  /** Sealed bytes not yet opened: views of what was pushed, then of `carry`. */
  private parts: Buffer[] = [];
  private len = 0;
  /** A segment that spans pushed buffers is gathered here. */
  private readonly staging = Buffer.allocUnsafe(SEALED_SEGMENT_BYTES);
  /** What is left over from a push is kept here, so a caller may reuse its buffer. */
  private readonly carry = Buffer.allocUnsafe(SEALED_SEGMENT_BYTES);
  private index = 0;
  private done = false;

  constructor(
    private readonly key: Buffer,
    private readonly prefix: Buffer,
    private readonly aad: Buffer,
    private readonly object: string,
  ) {}

  /**
   * Adds sealed bytes; returns the authenticated plaintext of every segment known not to be the
   * last, in pieces. Keeps no view of `data`: the caller may fill it again.
   */
  push(data: Buffer): Buffer[] {
    if (this.done) throw new IntegrityError(this.object, 'data after the last segment');
    this.parts.push(data);
    this.len += data.length;
    const out: Buffer[] = [];
    while (this.len > SEALED_SEGMENT_BYTES) this.open(this.take(SEALED_SEGMENT_BYTES), false, out);
    // At most one segment's bytes are left; moved within `carry` or into it (`set` copies as memmove does).
    let at = 0;
    for (const p of this.parts) {
      this.carry.set(p, at);
      at += p.length;
    }
    this.parts = at > 0 ? [this.carry.subarray(0, at)] : [];
    return out;
  }

  final(): Buffer[] {
    if (this.len < TAG_BYTES) throw new IntegrityError(this.object, 'the bundle is truncated (its last segment is missing)');
    this.done = true;
    const out: Buffer[] = [];
    this.open(this.take(this.len), true, out);
    return out;
  }

  /** The next `n` sealed bytes: a view where one part holds them all, else gathered in `staging`. */
  private take(n: number): Buffer {
    this.len -= n;
    const first = this.parts[0]!;
    if (first.length >= n) {
      if (first.length === n) this.parts.shift();
      else this.parts[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    for (let at = 0; at < n; ) {
      const p = this.parts[0]!;
      const k = Math.min(p.length, n - at);
      this.staging.set(p.subarray(0, k), at);
      at += k;
      if (k === p.length) this.parts.shift();
      else this.parts[0] = p.subarray(k);
    }
    return this.staging.subarray(0, n);
  }

  /** Opens one segment into `out`, which gets nothing unless all of it is authentic. */
  private open(segment: Buffer, last: boolean, out: Buffer[]): void {
    const d = createDecipheriv('aes-256-gcm', this.key, nonceFor(this.prefix, this.index, last));
    d.setAAD(this.aad);
    const body = segment.length - TAG_BYTES;
    d.setAuthTag(segment.subarray(body));
    const pieces: Buffer[] = [];
    updateInSteps(d, segment.subarray(0, body), (piece) => pieces.push(piece));
    try {
      d.final();
    } catch {
      for (const p of pieces) p.fill(0); // unauthenticated plaintext is never handed on
      throw new IntegrityError(this.object, `segment ${this.index} fails authentication (modified, reordered or truncated)`);
    }
    this.index++;
    out.push(...pieces);
  }
}
