/**
 * Looks at the first decrypted bytes of a backup to tell a right key from a
 * wrong one before the whole file has been read: with the right key they are
 * a zlib stream that inflates to a SQLite header (databases) or a ZIP local
 * file header (multi-file backups: stickers, wallpapers). With a wrong key
 * they are noise, and the chance that noise passes this test is far below one
 * in a million.
 */
import { constants, inflateSync } from 'node:zlib';

export type PlaintextKind = 'sqlite' | 'zip' | 'zlib-other' | 'noise';

const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');
const ZIP_MAGIC = Buffer.from([0x50, 0x4b, 0x03, 0x04]);
/** Enough ciphertext to get the first inflated bytes out of any deflate block header. */
export const PROBE_BYTES = 4096;

/** A zlib header: deflate method, 32 KiB window or less, and the header checksum (RFC 1950). */
function isZlibHeader(b: Buffer): boolean {
  const cmf = b[0];
  const flg = b[1];
  if (cmf === undefined || flg === undefined) return false;
  return (cmf & 0x0f) === 8 && cmf >> 4 <= 7 && ((cmf << 8) | flg) % 31 === 0 && (flg & 0x20) === 0;
}

/** Inflates what it can of a stream's beginning; null on a deflate error. */
function inflatePrefix(b: Buffer): Buffer | null {
  try {
    return inflateSync(b, { finishFlush: constants.Z_SYNC_FLUSH, maxOutputLength: 64 * 1024 * 1024 });
  } catch {
    return null;
  }
}

/**
 * Classifies the first decrypted bytes (any length; PROBE_BYTES is plenty).
 * `zlib-other` means a valid zlib start whose content is not recognised, or
 * too short to tell: not evidence of a wrong key, so decryption goes on and
 * the GCM tag decides.
 */
export function probePlaintext(first: Buffer): PlaintextKind {
  if (first.length >= ZIP_MAGIC.length && first.subarray(0, ZIP_MAGIC.length).equals(ZIP_MAGIC)) return 'zip';
  if (!isZlibHeader(first)) return 'noise';
  const out = inflatePrefix(first.subarray(0, PROBE_BYTES));
  if (out === null) return 'noise';
  if (out.length >= SQLITE_MAGIC.length) return out.subarray(0, SQLITE_MAGIC.length).equals(SQLITE_MAGIC) ? 'sqlite' : 'zlib-other';
  return 'zlib-other';
}

/** The strict form used to search for typos: only a recognised payload counts. */
export function isRecognisedPayload(first: Buffer): boolean {
  const kind = probePlaintext(first);
  return kind === 'sqlite' || kind === 'zip';
}
