/**
 * Pack files: many sealed blobs in one storage object, because cloud storage
 * dislikes millions of small objects. Layout:
 *   sealed blob 1 || … || sealed blob n || sealed header || header length (u32 LE)
 * The header lists, in order, each blob's type, id, sealed length and raw
 * length (offsets follow by summing), so the index can be rebuilt from packs
 * alone. A pack is named by the SHA-256 of its bytes.
 */
import { aadOf, AuthenticationFailed, open, seal, SEAL_OVERHEAD } from '../crypto/aead.js';
import { ID_BYTES } from '../crypto/ids.js';
import { IntegrityError } from '../errors.js';
import { BLOB_TYPE_BY_CODE, BLOB_TYPES, MAX_BLOB_BYTES, type BlobType } from './blob.js';

const HEADER_LABEL = 'chatsafe/v1/pack-header';
const ENTRY_BYTES = 1 + ID_BYTES + 4 + 4;
/** Packs are closed once they reach this size. */
export const PACK_TARGET_BYTES = 16 * 1024 * 1024;
/** A header for more blobs than this is rejected as hostile. */
const MAX_PACK_ENTRIES = 1 << 20;

export interface PackEntry {
  readonly type: BlobType;
  readonly id: Buffer;
  readonly offset: number;
  readonly length: number; // sealed length in the pack
  readonly rawLength: number; // plaintext length
}

/** Collects sealed blobs in memory until the pack is full; `finish` returns the parts to store. */
export class PackBuilder {
  readonly parts: Buffer[] = [];
  readonly entries: PackEntry[] = [];
  size = 0;

  add(type: BlobType, id: Buffer, sealed: Buffer, rawLength: number): void {
    this.entries.push({ type, id, offset: this.size, length: sealed.length, rawLength });
    this.parts.push(sealed);
    this.size += sealed.length;
  }

  get count(): number {
    return this.entries.length;
  }

  finish(metaKey: Buffer): Buffer[] {
    const header = Buffer.allocUnsafe(this.entries.length * ENTRY_BYTES);
    this.entries.forEach((e, i) => {
      const o = i * ENTRY_BYTES;
      header[o] = BLOB_TYPES[e.type];
      e.id.copy(header, o + 1);
      header.writeUInt32LE(e.length, o + 1 + ID_BYTES);
      header.writeUInt32LE(e.rawLength, o + 5 + ID_BYTES);
    });
    const sealedHeader = seal(metaKey, aadOf(HEADER_LABEL), header);
    const trailer = Buffer.allocUnsafe(4);
    trailer.writeUInt32LE(sealedHeader.length);
    return [...this.parts, sealedHeader, trailer];
  }
}

/** Where the sealed header sits, from the pack's last four bytes. */
export function headerRange(packSize: number, trailer: Buffer, object: string): { offset: number; length: number } {
  if (packSize < 4 + SEAL_OVERHEAD || trailer.length !== 4) throw new IntegrityError(object, 'pack is too short (truncated?)');
  const length = trailer.readUInt32LE(0);
  if (length < SEAL_OVERHEAD || length > packSize - 4 || (length - SEAL_OVERHEAD) % ENTRY_BYTES !== 0) {
    throw new IntegrityError(object, 'pack header length is impossible (truncated or damaged)');
  }
  return { offset: packSize - 4 - length, length };
}

export function parsePackHeader(metaKey: Buffer, sealedHeader: Buffer, headerOffset: number, object: string): PackEntry[] {
  let header: Buffer;
  try {
    header = open(metaKey, aadOf(HEADER_LABEL), sealedHeader);
  } catch (e) {
    if (e instanceof AuthenticationFailed) throw new IntegrityError(object, 'pack header fails authentication');
    throw e;
  }
  const count = header.length / ENTRY_BYTES;
  if (!Number.isInteger(count) || count > MAX_PACK_ENTRIES) throw new IntegrityError(object, 'pack header is malformed');
  const entries: PackEntry[] = [];
  let offset = 0;
  for (let i = 0; i < count; i++) {
    const o = i * ENTRY_BYTES;
    const type = BLOB_TYPE_BY_CODE[header[o]!];
    const length = header.readUInt32LE(o + 1 + ID_BYTES);
    const rawLength = header.readUInt32LE(o + 5 + ID_BYTES);
    if (!type || length < SEAL_OVERHEAD + 1 || rawLength > MAX_BLOB_BYTES || offset + length > headerOffset) {
      throw new IntegrityError(object, `pack header entry ${i} is malformed`);
    }
    entries.push({ type, id: Buffer.from(header.subarray(o + 1, o + 1 + ID_BYTES)), offset, length, rawLength });
    offset += length;
  }
  if (offset !== headerOffset) throw new IntegrityError(object, 'pack header does not account for every byte of the pack');
  return entries;
}
