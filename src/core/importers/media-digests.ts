/**
 * The SHA-256 of media files hashed by the last catalog built from a source,
 * by what each file looked like then (its path, size, modification and
 * change times, inode), so that building the catalog again reads only the
 * files that changed. A chat database grows every day while its media stay as
 * they are: hashing the 3 GiB reference export's media again was 1-2 s of
 * every backup after its database grew, all of it waited for.
 *
 * The rule is the one a backup uses to reuse an unchanged file's chunks
 * unread (restic's too): a file whose size, times and inode are the same has
 * the same content. A digest is recorded only when the file looked the same
 * after it was read as before, so a file changed while it was hashed is read
 * again next time.
 *
 * Records are 48 bytes: the first 16 bytes of a SHA-256 of the file's path
 * and metadata (the lookup key), then its content's SHA-256. Known records
 * come sorted by key; this build's are gathered as they come and sorted once
 * at the end. The sealed file that keeps them between runs is
 * `media-digest-cache.ts`.
 */
import { createHash } from 'node:crypto';
import type { BigIntStats } from 'node:fs';

export const DIGEST_KEY_BYTES = 16;
export const DIGEST_RECORD_BYTES = DIGEST_KEY_BYTES + 32;

/** The lookup key of a file as it is now. */
export function fileStateKey(abs: string, st: BigIntStats): Buffer {
  return createHash('sha256')
    .update(`${abs}\0${st.size}\0${st.mtimeNs}\0${st.ctimeNs}\0${st.ino}`)
    .digest()
    .subarray(0, DIGEST_KEY_BYTES);
}

/** Whether two looks at a file saw it unchanged, by the fields its key is made of. */
export function sameFileState(a: BigIntStats, b: BigIntStats): boolean {
  return a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs && a.ino === b.ino;
}

/** Whether `records` can be the known records of a build: whole records, sorted by key, no key twice. */
export function validDigestRecords(records: Uint8Array): boolean {
  if (records.length % DIGEST_RECORD_BYTES !== 0) return false;
  const b = Buffer.from(records.buffer, records.byteOffset, records.byteLength);
  for (let at = DIGEST_RECORD_BYTES; at < b.length; at += DIGEST_RECORD_BYTES) {
    // This record's key against the one before it: it must come strictly after.
    if (b.compare(b, at - DIGEST_RECORD_BYTES, at - DIGEST_RECORD_BYTES + DIGEST_KEY_BYTES, at, at + DIGEST_KEY_BYTES) <= 0) return false;
  }
  return true;
}

export class MediaDigests {
  private readonly known: Buffer;
  private recorded = Buffer.allocUnsafe(64 * DIGEST_RECORD_BYTES);
  private count = 0;
  /** Files whose digest came from the known records, not from reading them. */
  reused = 0;

  /** `known`: records from the last build, sorted (`validDigestRecords`); an invalid set is ignored. */
  constructor(known: Uint8Array | null = null) {
    this.known = known && validDigestRecords(known) ? Buffer.from(known.buffer, known.byteOffset, known.byteLength) : Buffer.alloc(0);
  }

  /** The known digest (hex) of a file in the state `key` names, or null. */
  lookup(key: Buffer): string | null {
    let lo = 0;
    let hi = this.known.length / DIGEST_RECORD_BYTES;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const at = mid * DIGEST_RECORD_BYTES;
      const c = this.known.compare(key, 0, DIGEST_KEY_BYTES, at, at + DIGEST_KEY_BYTES);
      if (c === 0) {
        this.reused += 1;
        return this.known.toString('hex', at + DIGEST_KEY_BYTES, at + DIGEST_RECORD_BYTES);
      }
      if (c < 0) lo = mid + 1;
      else hi = mid;
    }
    return null;
  }

  /** Keeps a file's digest (hex) for the next build. */
  record(key: Buffer, hex: string): void {
    if ((this.count + 1) * DIGEST_RECORD_BYTES > this.recorded.length) {
      const grown = Buffer.allocUnsafe(this.recorded.length * 2);
      this.recorded.copy(grown, 0, 0, this.count * DIGEST_RECORD_BYTES);
      this.recorded = grown;
    }
    const at = this.count * DIGEST_RECORD_BYTES;
    key.copy(this.recorded, at, 0, DIGEST_KEY_BYTES);
    this.recorded.write(hex, at + DIGEST_KEY_BYTES, 32, 'hex');
    this.count += 1;
  }

  /** This build's records, sorted by key, each key once (a file several messages name is recorded for each). */
  sortedRecords(): Uint8Array {
    const r = this.recorded;
    const order = Array.from({ length: this.count }, (_, i) => i * DIGEST_RECORD_BYTES);
    order.sort((a, b) => r.compare(r, b, b + DIGEST_KEY_BYTES, a, a + DIGEST_KEY_BYTES));
    const out = new Uint8Array(new ArrayBuffer(this.count * DIGEST_RECORD_BYTES));
    let n = 0;
    for (const at of order) {
      const prev = (n - 1) * DIGEST_RECORD_BYTES;
      if (n > 0 && r.compare(out, prev, prev + DIGEST_KEY_BYTES, at, at + DIGEST_KEY_BYTES) === 0) continue;
      out.set(r.subarray(at, at + DIGEST_RECORD_BYTES), n * DIGEST_RECORD_BYTES);
      n += 1;
    }
    return out.subarray(0, n * DIGEST_RECORD_BYTES);
  }
}
