/**
 * Object ids. Blob ids are HMAC-SHA256 under a repository secret, so equal
 * plaintext deduplicates while ids reveal nothing about content to anyone
 * without the key. Storage objects (packs, index, snapshots) are named by
 * the plain SHA-256 of their encrypted bytes, which lets anyone, with or
 * without the key, check that an object is exactly what was written.
 */
import { createHash, createHmac, timingSafeEqual, webcrypto } from 'node:crypto';

export const ID_BYTES = 32;

export function blobId(idKey: Buffer, plaintext: Uint8Array): Buffer {
  return createHmac('sha256', idKey).update(plaintext).digest();
}

export function storageName(parts: readonly Uint8Array[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex');
}

/**
 * `storageName` of one buffer, hashed on the thread pool (WebCrypto's digest
 * runs there), so the calling thread goes on meanwhile: a backup names each
 * 8 MiB pack this way while its crypto worker, its busiest thread, seals the next.
 */
export async function storageNameOffThread(bytes: Uint8Array): Promise<string> {
  return Buffer.from(await webcrypto.subtle.digest('SHA-256', bytes)).toString('hex');
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
