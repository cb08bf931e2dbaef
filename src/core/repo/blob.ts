/**
 * Blobs: the unit of deduplication. A data blob is one chunk of a file; a
 * tree blob is one directory listing. Each is sealed on its own under the data
 * key with its type and id as associated data, so a blob copied to another
 * place in a pack, or into another pack, fails to open there.
 */
import { aadOf, AuthenticationFailed, open, openSteps, sealInto, SEAL_OVERHEAD } from '../crypto/aead.js';
import { ID_BYTES } from '../crypto/ids.js';
import { CDC_PARAMS } from '../chunking/fastcdc.js';
import { IntegrityError } from '../errors.js';
import { copyBytes } from '../jobs/copy-bytes.js';
import { ScratchBuffer } from './scratch-buffer.js';
import { DATA_LEVEL, decodePayload, decompressInto, FLAG_STORED, FLAG_ZSTD, LEVEL, maybeCompressView } from './compression.js';

export const BLOB_TYPES = { data: 0, tree: 1 } as const;
export type BlobType = keyof typeof BLOB_TYPES;
export const BLOB_TYPE_BY_CODE: Record<number, BlobType | undefined> = { 0: 'data', 1: 'tree' };

/** The largest data blob plaintext the format allows (the chunker's maximum is smaller). */
export const MAX_DATA_BLOB_BYTES = 16 * 1024 * 1024;
/**
 * The largest tree blob plaintext. A tree lists every chunk of each of its files, 67 bytes of JSON
 * a chunk: a SQLite database of 1 GiB in 4 KiB pages is 262,144 chunks, 17.6 MB of its folder's
 * tree, more than a data blob may hold. 512 MiB lists a database of about 30 GiB.
 */
export const MAX_TREE_BLOB_BYTES = 512 * 1024 * 1024;

export function maxRawLength(type: BlobType): number {
  return type === 'tree' ? MAX_TREE_BLOB_BYTES : MAX_DATA_BLOB_BYTES;
}

const BLOB_LABEL = 'chatsafe/v1/blob';

const BLOB_AAD: Record<BlobType, Buffer> = {
  data: aadOf(BLOB_LABEL, Uint8Array.of(BLOB_TYPES.data), new Uint8Array(ID_BYTES)),
  tree: aadOf(BLOB_LABEL, Uint8Array.of(BLOB_TYPES.tree), new Uint8Array(ID_BYTES)),
};

/**
 * The associated data of a blob: `aadOf(BLOB_LABEL, [type code], id)`. Built
 * in place in one buffer per type, since a backup or restore needs it for
 * every one of tens of thousands of SQLite pages, and `aadOf` allocates seven
 * buffers each time. The result is valid until the next call for the same
 * type: callers hand it straight to the cipher, which copies it.
 */
export function blobAad(type: BlobType, id: Uint8Array): Buffer {
  if (id.length !== ID_BYTES) return aadOf(BLOB_LABEL, Uint8Array.of(BLOB_TYPES[type]), id);
  const aad = BLOB_AAD[type];
  aad.set(id, aad.length - ID_BYTES);
  return aad;
}

/** The most bytes a sealed blob of `rawLength` bytes can take (compression is kept only when it shrinks). */
export function sealedBlobBound(rawLength: number): number {
  return 1 + rawLength + SEAL_OVERHEAD;
}

/** What is sealed of a blob: the flag byte and the body (compressed, or the data as it is). */
export interface BlobPayload {
  readonly flag: number;
  /** A compressed body is a view of a scratch buffer, valid until the next `blobPayload` call on this thread. */
  readonly body: Uint8Array;
}

/**
 * The payload of a blob about to be sealed. Compressing comes first so that the room a pack makes
 * for a blob is its sealed size, not its raw one: a chat database's listing compresses to about
 * half, and at 10 MiB it is a pack of its own.
 */
export function blobPayload(type: BlobType, data: Uint8Array, compress: boolean): BlobPayload {
  if (!compress) return { flag: FLAG_STORED, body: data };
  // Listings come a few at a time and may be megabytes (a database's): they do not grow the scratch buffer kept for file chunks.
  return type === 'data' ? maybeCompressView(data, DATA_LEVEL) : maybeCompressView(data, LEVEL, false);
}

/** Bytes `payload` takes once sealed. */
export function sealedPayloadLength(payload: BlobPayload): number {
  return 1 + payload.body.length + SEAL_OVERHEAD;
}

/** Seals a blob's payload into `out` at `at` (room for `sealedPayloadLength` bytes); returns its sealed length. */
export function sealPayloadInto(out: Buffer, at: number, dataKey: Buffer, type: BlobType, id: Uint8Array, payload: BlobPayload): number {
  return sealInto(out, at, dataKey, blobAad(type, id), Uint8Array.of(payload.flag), payload.body);
}

export function openBlob(dataKey: Buffer, type: BlobType, id: Uint8Array, sealed: Uint8Array, rawLength: number, object: string): Buffer {
  let payload: Buffer;
  try {
    payload = open(dataKey, blobAad(type, id), sealed);
  } catch (e) {
    throw authenticationError(e, type, id, object);
  }
  return decodePayload(payload, rawLength, object);
}

/** Compressed bodies are decrypted here before they are decompressed into place. */
const zstdScratch = new ScratchBuffer(sealedBlobBound(CDC_PARAMS.max));

/**
 * Like `openBlob`, but writes the plaintext straight into `out` at `at`
 * (`rawLength` bytes): a stored body is decrypted in place and a compressed
 * one decompressed in place, so a restore copies each byte once. On any
 * failure that range of `out` is wiped before the error is thrown.
 */
export function openBlobInto(dataKey: Buffer, type: BlobType, id: Uint8Array, sealed: Uint8Array, rawLength: number, object: string, out: Uint8Array, at: number): void {
  const bodyLength = sealed.length - SEAL_OVERHEAD - 1;
  let flag = -1;
  let body: Buffer | null = null;
  try {
    openSteps(dataKey, blobAad(type, id), sealed, (piece, offset) => {
      let p = piece;
      let o = offset - 1; // offset in the body, after the flag byte
      if (offset === 0 && p.length > 0) {
        flag = p[0]!;
        p = p.subarray(1);
        o = 0;
        if (flag !== FLAG_STORED) body = zstdScratch.take(bodyLength);
      }
      if (flag === FLAG_STORED) {
        if (bodyLength === rawLength) copyBytes(out, at + o, p);
      } else body!.set(p, o);
    });
    if (flag === FLAG_STORED) {
      if (bodyLength !== rawLength) throw new IntegrityError(object, `length ${Math.max(0, bodyLength)} differs from the recorded ${rawLength}`);
    } else if (flag === FLAG_ZSTD) decompressInto(body!.subarray(0, bodyLength), out.subarray(at, at + rawLength), object);
    else throw new IntegrityError(object, 'unknown payload encoding');
  } catch (e) {
    out.fill(0, at, at + rawLength);
    throw authenticationError(e, type, id, object);
  }
}

function authenticationError(e: unknown, type: BlobType, id: Uint8Array, object: string): unknown {
  if (!(e instanceof AuthenticationFailed)) return e;
  return new IntegrityError(object, `${type} blob ${Buffer.from(id).toString('hex').slice(0, 16)} fails authentication (modified, damaged, or moved from elsewhere)`);
}
