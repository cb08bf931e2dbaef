/**
 * Streaming AEAD for bundles (the construction of Tink's AES-GCM-HKDF
 * streaming and age's STREAM): the payload is cut into segments of equal
 * size, each sealed with AES-256-GCM under a per-bundle key, with a nonce made
 * of a random prefix, the segment's index and a flag marking the last
 * segment. Reordered, dropped, duplicated or truncated segments fail to open;
 * a stream that ends without a segment flagged last is truncated.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { IntegrityError } from '../errors.js';
import { TAG_BYTES } from '../crypto/aead.js';

export const SEGMENT_BYTES = 1024 * 1024;
export const NONCE_PREFIX_BYTES = 7;

function nonceFor(prefix: Buffer, index: number, last: boolean): Buffer {
  const nonce = Buffer.alloc(12);
  prefix.copy(nonce, 0);
  nonce.writeUInt32BE(index, 7);
  nonce[11] = last ? 1 : 0;
  return nonce;
}

function sealSegment(key: Buffer, prefix: Buffer, aad: Buffer, index: number, last: boolean, plain: Buffer): Buffer {
  const c = createCipheriv('aes-256-gcm', key, nonceFor(prefix, index, last));
  c.setAAD(aad);
  return Buffer.concat([c.update(plain), c.final(), c.getAuthTag()]);
}

export class SegmentSealer {
  private buf: Buffer[] = [];
  private len = 0;
  private index = 0;

  constructor(
    private readonly key: Buffer,
    private readonly prefix: Buffer,
    private readonly aad: Buffer,
  ) {}

  /** Adds plaintext; returns the sealed segments it completes (never the last one). */
  push(data: Buffer): Buffer[] {
    this.buf.push(data);
    this.len += data.length;
    const out: Buffer[] = [];
    // Keep at least one byte back so the final segment is never empty unless the payload is.
    while (this.len > SEGMENT_BYTES) {
      const all = Buffer.concat(this.buf);
      out.push(sealSegment(this.key, this.prefix, this.aad, this.index++, false, all.subarray(0, SEGMENT_BYTES)));
      const rest = all.subarray(SEGMENT_BYTES);
      this.buf = [rest];
      this.len = rest.length;
    }
    return out;
  }

  final(): Buffer {
    return sealSegment(this.key, this.prefix, this.aad, this.index++, true, Buffer.concat(this.buf));
  }
}

export class SegmentOpener {
  private buf: Buffer[] = [];
  private len = 0;
  private index = 0;
  private done = false;

  constructor(
    private readonly key: Buffer,
    private readonly prefix: Buffer,
    private readonly aad: Buffer,
    private readonly object: string,
  ) {}

  private open(segment: Buffer, last: boolean): Buffer {
    const d = createDecipheriv('aes-256-gcm', this.key, nonceFor(this.prefix, this.index, last));
    d.setAAD(this.aad);
    d.setAuthTag(segment.subarray(segment.length - TAG_BYTES));
    const plain = d.update(segment.subarray(0, segment.length - TAG_BYTES));
    try {
      d.final();
    } catch {
      throw new IntegrityError(this.object, `segment ${this.index} fails authentication (modified, reordered or truncated)`);
    }
    this.index++;
    return plain;
  }

  /** Adds sealed bytes; returns authenticated plaintext of every segment known not to be the last. */
  push(data: Buffer): Buffer[] {
    if (this.done) throw new IntegrityError(this.object, 'data after the last segment');
    this.buf.push(data);
    this.len += data.length;
    const full = SEGMENT_BYTES + TAG_BYTES;
    const out: Buffer[] = [];
    while (this.len > full) {
      const all = Buffer.concat(this.buf);
      out.push(this.open(all.subarray(0, full), false));
      const rest = all.subarray(full);
      this.buf = [rest];
      this.len = rest.length;
    }
    return out;
  }

  final(): Buffer {
    if (this.len < TAG_BYTES) throw new IntegrityError(this.object, 'the bundle is truncated (its last segment is missing)');
    this.done = true;
    return this.open(Buffer.concat(this.buf), true);
  }
}
