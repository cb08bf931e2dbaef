/**
 * Local files that only speed a run up (the index cache, the media digests),
 * sealed under a repository's key so they reveal nothing and cannot be forged
 * without it. Neither reading nor writing one can fail a run: a file that is
 * missing, damaged or sealed for something else reads as nothing, and one
 * that cannot be written is simply not there next time.
 */
import { closeSync, fstatSync, mkdirSync, openSync, readSync, renameSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { NONCE_BYTES, SEAL_OVERHEAD, sealSteps, StreamOpener, TAG_BYTES } from '../crypto/aead.js';
import { YoungGarbage } from '../jobs/young-garbage.js';
import { readFullySync } from '../storage/read-fully.js';
import { writeFullySync } from '../storage/write-fully.js';

/** The plaintext of `path`, or null when it is missing or does not open under this key and associated data. */
export function loadSealedLocal(path: string, key: Buffer, aad: Buffer): Buffer | null {
  const read: { body?: Buffer } = {};
  const opened = readSealedLocal(path, key, aad, (size) => {
    const body = (read.body = Buffer.allocUnsafeSlow(size));
    let at = 0;
    return (piece) => {
      at += piece.copy(body, at);
    };
  });
  if (opened) return read.body ?? null;
  // Never kept, but not left as it was either: it was not genuine.
  read.body?.fill(0);
  return null;
}

/** What a sealed local file is read in, a piece at a time. */
const READ_BYTES = 1024 * 1024;
/**
 * A minor collection every this many bytes opened: each step's plaintext is a new buffer outside the
 * heap, which V8 would let pile up (30 MiB of them at once when a 6 GiB export's index was read).
 */
const COLLECT_EVERY_BYTES = 2 * 1024 * 1024;

/**
 * Reads and opens `path` a piece at a time, handing the plaintext in order to the sink `begin`
 * returns once it knows the plaintext's size: a local index cache is tens of megabytes, and read
 * whole it was there twice more beside what it is read into. True when all of it opened under this
 * key and associated data; false when the file is missing or does not open, or the sink threw, and
 * then what the sink was handed is not genuine and must be let go.
 */
export function readSealedLocal(path: string, key: Buffer, aad: Buffer, begin: (size: number) => (piece: Buffer) => void): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return false;
  }
  try {
    const size = fstatSync(fd).size;
    if (size < SEAL_OVERHEAD) return false;
    const end = size - TAG_BYTES;
    const nonce = readAt(fd, NONCE_BYTES, 0);
    const tag = readAt(fd, TAG_BYTES, end);
    if (!nonce || !tag) return false;
    const opening = new StreamOpener(key, aad, nonce, tag);
    const sink = begin(size - SEAL_OVERHEAD);
    const buf = Buffer.allocUnsafeSlow(Math.min(READ_BYTES, Math.max(1, end - NONCE_BYTES)));
    const garbage = new YoungGarbage(COLLECT_EVERY_BYTES);
    for (let at = NONCE_BYTES; at < end; ) {
      const n = readSync(fd, buf, 0, Math.min(buf.length, end - at), at);
      if (n === 0) return false;
      opening.update(buf.subarray(0, n), sink);
      garbage.add(n);
      at += n;
    }
    opening.finish();
    return true;
  } catch {
    return false;
  } finally {
    closeSync(fd);
  }
}

/** `length` bytes at `position`, or null when the file ends first. */
function readAt(fd: number, length: number, position: number): Buffer | null {
  const out = Buffer.alloc(length);
  return readFullySync(fd, out, length, position) ? out : null;
}

/**
 * Replaces `path` in `dir` with `parts` sealed, under a temporary name then renamed, so a reader
 * never sees half of one. Sealed a step at a time into the file: at the end of a backup, an
 * index's bytes and their sealed copy (22 MiB for a 3 GiB export) would be the run's highest memory.
 */
export function saveSealedLocal(dir: string, path: string, key: Buffer, aad: Buffer, parts: Iterable<Uint8Array>): boolean {
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
