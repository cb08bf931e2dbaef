/**
 * AES-256-GCM with a random 96-bit nonce, the only cipher the repository uses.
 * Sealed layout: nonce (12) || ciphertext || tag (16). Every call site passes
 * associated data naming what the object is and where it belongs, so an
 * object moved, swapped or replayed into another place fails to open.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

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
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(aad);
  const out = [nonce];
  for (const p of parts) out.push(cipher.update(p));
  out.push(cipher.final(), cipher.getAuthTag());
  return Buffer.concat(out);
}

export function open(key: Buffer, aad: Buffer, sealed: Uint8Array): Buffer {
  if (sealed.length < SEAL_OVERHEAD) throw new AuthenticationFailed();
  const buf = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  const nonce = buf.subarray(0, NONCE_BYTES);
  const tag = buf.subarray(buf.length - TAG_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', key, nonce);
  decipher.setAAD(aad);
  decipher.setAuthTag(tag);
  const body = decipher.update(buf.subarray(NONCE_BYTES, buf.length - TAG_BYTES));
  try {
    decipher.final();
  } catch {
    throw new AuthenticationFailed();
  }
  return body;
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
