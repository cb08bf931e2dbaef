/**
 * AES-256-GCM with a random 96-bit nonce, the only cipher the repository uses.
 * Sealed layout: nonce (12) || ciphertext || tag (16). Every call site passes
 * associated data naming what the object is and where it belongs, so an
 * object moved, swapped or replayed into another place fails to open.
 */
import { createCipheriv, createDecipheriv, randomBytes, type CipherGCM, type DecipherGCM } from 'node:crypto';

export const KEY_BYTES = 32;
export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;
export const SEAL_OVERHEAD = NONCE_BYTES + TAG_BYTES;

/** Raised when authentication fails; callers turn it into a wrong-key or integrity error with context. */
export class AuthenticationFailed extends Error {
  constructor() {
    super('authentication failed');
    this.name = 'AuthenticationFailed';
  }
}

/** Seals the concatenation of `parts` (avoids copying a flag byte in front of a large body). */
export function seal(key: Buffer, aad: Buffer, ...parts: Uint8Array[]): Buffer {
  // One allocation of the final size; the cipher works in small steps whose
  // temporary buffers the allocator recycles at once (large temporaries would
  // fragment memory across worker threads).
  const out = Buffer.allocUnsafeSlow(sealedLength(parts));
  sealInto(out, 0, key, aad, ...parts);
  return out;
}

/** Bytes `seal` produces for these parts. */
export function sealedLength(parts: readonly Uint8Array[]): number {
  return parts.reduce((n, p) => n + p.length, SEAL_OVERHEAD);
}

/**
 * Seals into `out` at `at` (which must have room for `sealedLength(parts)`
 * bytes) and returns the bytes written: packs are assembled in place, without
 * a buffer per blob.
 */
export function sealInto(out: Buffer, at: number, key: Buffer, aad: Buffer, ...parts: Uint8Array[]): number {
  const length = sealedLength(parts);
  if (at < 0 || at + length > out.length) throw new RangeError('seal output does not fit');
  let o = at;
  sealSteps(key, aad, parts, (piece) => {
    out.set(piece, o);
    o += piece.length;
  });
  return length;
}

/**
 * Seals the concatenation of `parts`, handing the sealed bytes to `sink` in
 * order a step at a time (nonce, ciphertext, tag), so a large object can go
 * to a file without the whole sealed copy in memory (see `StreamSealer`).
 */
export function sealSteps(key: Buffer, aad: Buffer, parts: Iterable<Uint8Array>, sink: (piece: Uint8Array) => void): void {
  const sealer = new StreamSealer(key, aad, sink);
  for (const p of parts) sealer.update(p);
  sealer.finish();
}

/**
 * Seals plaintext given a piece at a time, handing the sealed bytes to `sink` in order: the nonce,
 * the ciphertext a step at a time, the tag. Every piece is the sealer's own and never written
 * again (the nonce is a view of a pool that is replaced, not refilled; the rest are the cipher's
 * new buffers), so a sink may keep them, as a metadata document sealed into pieces does, or copy
 * them where they belong.
 */
export class StreamSealer {
  private readonly cipher: CipherGCM;

  constructor(
    key: Buffer,
    aad: Buffer,
    private readonly sink: (piece: Buffer) => void,
  ) {
    const nonce = nextNonce();
    sink(nonce);
    this.cipher = createCipheriv('aes-256-gcm', key, nonce);
    this.cipher.setAAD(aad);
  }

  /** Seals the next piece of plaintext (the caller may reuse it at once). */
  update(plaintext: Uint8Array): void {
    updateInSteps(this.cipher, plaintext, this.sink);
  }

  /** Hands over the tag. Nothing may be sealed after. */
  finish(): void {
    const last = this.cipher.final(); // empty for GCM, which keeps no block back
    if (last.length > 0) this.sink(last);
    this.sink(this.cipher.getAuthTag());
  }
}

/**
 * Ciphers are fed and drained this much at a time. Node's ciphers return every output in a new
 * buffer: a large one came from a fresh mapping each time, and a process here pays about 15 µs for
 * each page it first touches; outputs of this size come from the allocator's reused memory.
 */
const STEP_BYTES = 64 * 1024;

/** Feeds `data` to `cipher` a step at a time, handing each output to `sink` with its offset in `data`. */
export function updateInSteps(cipher: { update(data: Uint8Array): Buffer }, data: Uint8Array, sink: (piece: Buffer, at: number) => void): void {
  for (let at = 0; at < data.length; at += STEP_BYTES) sink(cipher.update(data.subarray(at, at + STEP_BYTES)), at);
}

/**
 * Random 96-bit nonces, drawn from the CSPRNG a few hundred at a time: one
 * call per nonce costs more than sealing a 4 KiB SQLite page.
 */
let noncePool = Buffer.alloc(0);
let nonceAt = 0;
function nextNonce(): Buffer {
  if (nonceAt + NONCE_BYTES > noncePool.length) {
    noncePool = randomBytes(NONCE_BYTES * 512);
    nonceAt = 0;
  }
  const n = noncePool.subarray(nonceAt, nonceAt + NONCE_BYTES);
  nonceAt += NONCE_BYTES;
  return n;
}

export function open(key: Buffer, aad: Buffer, sealed: Uint8Array): Buffer {
  const body = Buffer.allocUnsafeSlow(Math.max(0, sealed.length - SEAL_OVERHEAD));
  try {
    openSteps(key, aad, sealed, (piece, at) => body.set(piece, at));
  } catch (e) {
    body.fill(0); // never hand on unauthenticated plaintext, not even by accident
    throw e;
  }
  return body;
}

/**
 * Opens `sealed`, handing the plaintext to `sink` in order, a piece at a
 * time with its offset, so callers can place it where it belongs without
 * another copy. The pieces are authenticated only once this returns: when it
 * throws AuthenticationFailed, the caller must wipe what the sink received.
 */
export function openSteps(key: Buffer, aad: Buffer, sealed: Uint8Array, sink: (piece: Buffer, at: number) => void): void {
  if (sealed.length < SEAL_OVERHEAD) throw new AuthenticationFailed();
  const buf = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  const opener = new StreamOpener(key, aad, buf.subarray(0, NONCE_BYTES), buf.subarray(buf.length - TAG_BYTES));
  opener.update(buf.subarray(NONCE_BYTES, buf.length - TAG_BYTES), sink);
  opener.finish();
}

/**
 * Opens a sealed object whose ciphertext arrives in order a piece at a time, its nonce and tag
 * read first (a local file too large to hold twice). `update` hands the plaintext of each piece to
 * `sink`, with its offset in that piece; it is authenticated only once `finish` returns, which
 * throws AuthenticationFailed otherwise: the caller must then discard all it was handed.
 */
export class StreamOpener {
  private readonly decipher: DecipherGCM;

  constructor(key: Buffer, aad: Buffer, nonce: Uint8Array, tag: Uint8Array) {
    if (nonce.length !== NONCE_BYTES || tag.length !== TAG_BYTES) throw new AuthenticationFailed();
    this.decipher = createDecipheriv('aes-256-gcm', key, nonce);
    this.decipher.setAAD(aad);
    this.decipher.setAuthTag(tag);
  }

  update(ciphertext: Uint8Array, sink: (piece: Buffer, at: number) => void): void {
    updateInSteps(this.decipher, ciphertext, sink);
  }

  finish(): void {
    try {
      this.decipher.final();
    } catch {
      throw new AuthenticationFailed();
    }
  }
}

/** Associated data: a label and binary fields, length-prefixed so no two inputs collide. */
export function aadOf(label: string, ...fields: Uint8Array[]): Buffer {
  const parts: Buffer[] = [];
  for (const f of [Buffer.from(label, 'utf8'), ...fields]) {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(f.length);
    parts.push(len, Buffer.from(f.buffer, f.byteOffset, f.byteLength));
  }
  return Buffer.concat(parts);
}
