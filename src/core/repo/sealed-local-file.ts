/**
 * Local files that only speed a run up (the index cache, the media digests),
 * sealed under a repository's key so they reveal nothing and cannot be forged
 * without it. Neither reading nor writing one can fail a run: a file that is
 * missing, damaged or sealed for something else reads as nothing, and one
 * that cannot be written is simply not there next time.
 */
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { open, sealSteps } from '../crypto/aead.js';
import { writeFullySync } from '../storage/write-fully.js';

/** The plaintext of `path`, or null when it is missing or does not open under this key and associated data. */
export function loadSealedLocal(path: string, key: Buffer, aad: Buffer): Buffer | null {
  try {
    return open(key, aad, readFileSync(path));
  } catch {
    return null;
  }
}

/**
 * Replaces `path` in `dir` with `parts` sealed, under a temporary name then renamed, so a reader
 * never sees half of one. Sealed a step at a time into the file: at the end of a backup, an
 * index's bytes and their sealed copy (22 MiB for a 3 GiB export) would be the run's highest memory.
 */
export function saveSealedLocal(dir: string, path: string, key: Buffer, aad: Buffer, parts: readonly Uint8Array[]): boolean {
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const fd = openSync(tmp, 'wx', 0o600);
    try {
      let at = 0;
      sealSteps(key, aad, parts, (piece) => {
        writeFullySync(fd, piece, piece.length, at);
        at += piece.length;
      });
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
    return true;
  } catch {
    try {
      rmSync(tmp, { force: true });
    } catch {
      // the folder itself is unusable; there is nothing to clean
    }
    return false;
  }
}
