/**
 * Content-defined chunking (FastCDC: gear hash, cut-point skipping below the
 * minimum size, normalised chunking with a stricter mask before the average
 * size and a looser one after). Cut points depend only on content, so data
 * inserted or appended in a file shifts only the chunks around the change.
 * The gear table is derived from a repository secret, so chunk boundaries
 * (and thus chunk sizes) do not fingerprint known files to the storage provider.
 */
import { hkdf, LABELS } from '../crypto/subkeys.js';
import type { GearScanner } from './gear-scan.js';

export interface CdcParams {
  readonly min: number;
  readonly avg: number;
  readonly max: number;
}

export const CDC_PARAMS: CdcParams = { min: 256 * 1024, avg: 1024 * 1024, max: 4 * 1024 * 1024 };

export function gearTable(chunkerKey: Buffer): Uint32Array {
  const bytes = hkdf(chunkerKey, Buffer.alloc(0), LABELS.chunker, 1024);
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) table[i] = bytes.readUInt32LE(i * 4);
  return table;
}

/** A mask of `bits` ones in the high end of 32 bits: the high bits mix the most recent 32 bytes. */
function highMask(bits: number): number {
  return (0xffffffff << (32 - bits)) | 0;
}

/** Finds cut points incrementally across the blocks of one file. */
export class CdcCutter {
  private readonly maskS: number;
  private readonly maskL: number;
  /** Bytes in the current chunk so far (across blocks). */
  private len = 0;
  private h = 0;

  constructor(
    private readonly gear: Uint32Array,
    private readonly p: CdcParams = CDC_PARAMS,
    /** Scans blocks in its memory (the backup's read buffers) faster; anything else takes the loop here. */
    private readonly scanner: GearScanner | null = null,
  ) {
    const bits = Math.round(Math.log2(p.avg));
    this.maskS = highMask(bits + 2);
    this.maskL = highMask(bits - 2);
  }

  /**
   * Scans b[from, end) and returns the index just past the next cut point, or
   * -1 if the chunk continues beyond `end`. After a cut the state restarts.
   */
  next(b: Uint8Array, from: number, end: number): number {
    const { min, avg, max } = this.p;
    const len0 = this.len; // bytes of this chunk before b[from]
    let i = from;
    if (len0 < min) {
      // FastCDC never cuts below the minimum, so those bytes need no hashing.
      i += Math.min(min - len0, end - i);
      if (len0 + (i - from) < min) {
        this.len = len0 + (i - from);
        return -1;
      }
    }
    const endS = Math.min(end, i + Math.max(0, avg - (len0 + (i - from))));
    const cutS = this.scan(b, i, endS, this.maskS);
    if (cutS >= 0) return this.cut(cutS);
    const endL = Math.min(end, endS + Math.max(0, max - (len0 + (endS - from))));
    const cutL = this.scan(b, endS, endL, this.maskL);
    if (cutL >= 0) return this.cut(cutL);
    if (len0 + (endL - from) >= max) return this.cut(endL);
    this.len = len0 + (endL - from);
    return -1;
  }

  /** Gear-hashes b[i, end) on from the running hash: the index past the first byte where `mask` cuts, or -1. */
  private scan(b: Uint8Array, i: number, end: number, mask: number): number {
    if (i >= end) return -1;
    if (this.scanner?.holds(b)) {
      const at = this.scanner.scan(b, i, end, mask, this.h);
      if (at < 0) this.h = this.scanner.hash;
      return at;
    }
    const gear = this.gear;
    let h = this.h;
    while (i < end) {
      h = ((h << 1) + gear[b[i]!]!) | 0;
      i++;
      if ((h & mask) === 0) return i;
    }
    this.h = h;
    return -1;
  }

  private cut(at: number): number {
    this.len = 0;
    this.h = 0;
    return at;
  }
}
