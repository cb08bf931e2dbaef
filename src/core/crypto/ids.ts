/**
 * Object ids. Blob ids are HMAC-SHA256 under a repository secret, so equal
 * plaintext deduplicates while ids reveal nothing about content to anyone
 * without the key. Storage objects (packs, index, snapshots) are named by
 * the plain SHA-256 of their encrypted bytes, which lets anyone, with or
 * without the key, check that an object is exactly what was written.
 */
import { createHash, createHmac, timingSafeEqual, type Hmac } from 'node:crypto';
import { setImmediate } from 'node:timers/promises';

export const ID_BYTES = 32;

/** A blob's id as 64 hex digits, or as its 32 bytes (a `ChunkList`'s, without making a string). */
export type BlobKey = string | Uint8Array;

/** The first 16 hex digits of an id, for messages. */
export function shortHex(id: BlobKey): string {
  return typeof id === 'string' ? id.slice(0, 16) : Buffer.from(id.buffer, id.byteOffset, 8).toString('hex');
}

/**
 * The first four bytes of the id at `bytes[at, at + 32)`, little-endian, unsigned. Ids are keyed
 * hashes, so these bytes are uniformly spread: they are the hash an id table probes by.
 */
export function idTag(bytes: Uint8Array, at: number): number {
  return (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24)) >>> 0;
}

/** The first slot an id probes in an open-addressing table of `mask + 1` slots: its tag's low bits. */
export function idSlot(bytes: Uint8Array, at: number, mask: number): number {
  return idTag(bytes, at) & mask;
}

/** Value of each lowercase hex digit's char code, -1 for anything else. */
const HEX_VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < 16; i++) HEX_VALUE['0123456789abcdef'.charCodeAt(i)] = i;

/** The byte two hex digits' char codes stand for, or -1 when either is not a lowercase hex digit. */
function hexPair(c1: number, c2: number): number {
  const hi = c1 < 128 ? HEX_VALUE[c1]! : -1;
  const lo = c2 < 128 ? HEX_VALUE[c2]! : -1;
  return hi < 0 || lo < 0 ? -1 : (hi << 4) | lo;
}

/** Decodes a 64-digit lowercase hex id into `out` at `at`, without a buffer of its own; false when it is not one. */
export function hexInto(hex: string, out: Uint8Array, at: number): boolean {
  if (hex.length !== ID_BYTES * 2) return false;
  for (let i = 0; i < ID_BYTES; i++) {
    const b = hexPair(hex.charCodeAt(2 * i), hex.charCodeAt(2 * i + 1));
    if (b < 0) return false;
    out[at + i] = b;
  }
  return true;
}

/** `hexInto` for 64 hex digits given as ASCII bytes, `src[at, at + 64)`; false when they are not lowercase hex. */
export function hexBytesInto(src: Uint8Array, at: number, out: Uint8Array, outAt: number): boolean {
  if (at + ID_BYTES * 2 > src.length) return false;
  for (let i = 0; i < ID_BYTES; i++) {
    const b = hexPair(src[at + 2 * i]!, src[at + 2 * i + 1]!);
    if (b < 0) return false;
    out[outAt + i] = b;
  }
  return true;
}

export function blobId(idKey: Buffer, plaintext: Uint8Array): Buffer {
  return blobIdHash(idKey).update(plaintext).digest();
}

/** `blobId` of a plaintext fed in pieces: `update` each, then `digest`. */
export function blobIdHash(idKey: Buffer): Hmac {
  return createHmac('sha256', idKey);
}

export function storageName(parts: readonly Uint8Array[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex');
}

/**
 * `storageName` of one large buffer, hashed on the calling thread a step at a
 * time, with the event loop's other work between steps: a backup names each
 * 4 MiB pack this way while it reads and hands chunks to the crypto worker,
 * its busiest thread, which must never wait for a batch. (WebCrypto's digest,
 * on the thread pool, copies the whole buffer first: a heap snapshot at a
 * backup's peak held two such copies, 15 MiB.)
 */
export async function storageNameInSteps(bytes: Uint8Array, stepBytes = HASH_STEP_BYTES): Promise<string> {
  const h = createHash('sha256');
  for (let at = 0; at < bytes.length; at += stepBytes) {
    if (at > 0) await setImmediate();
    h.update(bytes.subarray(at, at + stepBytes));
  }
  return h.digest('hex');
}

/** About 0.7 ms of SHA-256 on our machines. */
const HASH_STEP_BYTES = 1024 * 1024;

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
