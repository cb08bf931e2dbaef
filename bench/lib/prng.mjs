// Deterministic pseudo-random sources for the benchmark's reference export.
//
// Two kinds, both derived from a seed string and a label so that every part of the export
// (each media file, the database) has its own independent stream: regenerating one part never
// shifts the bytes of another, and the same seed gives the same bytes on every machine.
//   - Rng: a small, fast generator (sfc32) for structural decisions (sizes, counts, words).
//   - randomBytesStream: AES-256-CTR keystream, for the bulk incompressible media payloads
//     (hundreds of MB per second, where a JavaScript PRNG would dominate generation time).
import { createCipheriv, createHash } from 'node:crypto';

/** 32 bytes derived from the seed and a label (the label names the consumer, e.g. a file path). */
export function deriveKey(seed, label) {
  return createHash('sha256').update(`chatsafe-bench\0${seed}\0${label}`).digest();
}

/** sfc32 (Chris Doty-Humphrey's Small Fast Counting generator), seeded from deriveKey. */
export class Rng {
  constructor(seed, label) {
    const k = deriveKey(seed, label);
    this.a = k.readUInt32LE(0);
    this.b = k.readUInt32LE(4);
    this.c = k.readUInt32LE(8);
    this.d = k.readUInt32LE(12) | 1;
    for (let i = 0; i < 16; i++) this.u32();
  }

  /** Uniform 32-bit unsigned integer. */
  u32() {
    this.a >>>= 0; this.b >>>= 0; this.c >>>= 0; this.d >>>= 0;
    const t = (this.a + this.b) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.d = (this.d + 1) | 0;
    const r = (t + this.d) | 0;
    this.c = (this.c + r) | 0;
    return r >>> 0;
  }

  /** Uniform float in [0, 1). */
  float() {
    return this.u32() / 4294967296;
  }

  /** Uniform integer in [min, max] (inclusive). */
  int(min, max) {
    return min + Math.floor(this.float() * (max - min + 1));
  }

  /** True with probability p. */
  chance(p) {
    return this.float() < p;
  }

  /** One element of a non-empty array. */
  pick(items) {
    return items[Math.floor(this.float() * items.length)];
  }

  /**
   * Log-normal size clamped to [min, max]: file sizes on phones are heavy-tailed around a median.
   * sigma is the spread of ln(size).
   */
  logNormal(median, sigma, min, max) {
    // Box-Muller; 1 - float() keeps the logarithm finite.
    const g = Math.sqrt(-2 * Math.log(1 - this.float())) * Math.cos(2 * Math.PI * this.float());
    return Math.min(max, Math.max(min, Math.round(median * Math.exp(sigma * g))));
  }

  /** Index drawn with probability proportional to weights[i]; cumulative is precomputed by cumulate(). */
  weighted(cumulative) {
    const x = this.float() * cumulative[cumulative.length - 1];
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cumulative[mid] > x) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** Uppercase hex string of n random digits. */
  hex(n) {
    let s = '';
    while (s.length < n) s += this.u32().toString(16).padStart(8, '0');
    return s.slice(0, n).toUpperCase();
  }

  /** Buffer of n pseudo-random bytes (for small blobs; use randomBytesStream for bulk data). */
  bytes(n) {
    const out = Buffer.allocUnsafe(n);
    let i = 0;
    for (; i + 4 <= n; i += 4) out.writeUInt32LE(this.u32(), i);
    if (i < n) {
      const last = this.u32();
      for (let j = 0; i < n; i++, j++) out[i] = (last >>> (8 * j)) & 0xff;
    }
    return out;
  }
}

/** Running sums of weights, for Rng.weighted. */
export function cumulate(weights) {
  const out = [];
  let sum = 0;
  for (const w of weights) out.push((sum += w));
  return out;
}

/**
 * Deterministic incompressible bytes: the AES-256-CTR keystream under a key derived from seed and
 * label. Returns a function that yields the next n bytes each call.
 */
export function randomBytesStream(seed, label) {
  const cipher = createCipheriv('aes-256-ctr', deriveKey(seed, label), Buffer.alloc(16));
  let zeros = Buffer.alloc(0);
  return (n) => {
    if (zeros.length < n) zeros = Buffer.alloc(n);
    return cipher.update(zeros.subarray(0, n));
  };
}
