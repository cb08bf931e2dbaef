/**
 * Metadata objects (index files, snapshots, locks) are JSON, compressed, and
 * sealed under the metadata key with a label naming the kind of object. They
 * are stored under the SHA-256 of their sealed bytes (locks under a random
 * name), and every read checks the name before decrypting.
 */
import { aadOf, AuthenticationFailed, open, seal, StreamSealer } from '../crypto/aead.js';
import { storageName } from '../crypto/ids.js';
import { IntegrityError } from '../errors.js';
import { compressDocumentTo, decodeBoundedPayload, FLAG_STORED, FLAG_ZSTD, maybeCompress } from './compression.js';
import type { JsonDocument } from './json-bytes.js';
import type { JsonValidator } from './json-shape.js';

export const META_LABELS = {
  index: 'chatsafe/v1/index',
  snapshot: 'chatsafe/v1/snapshot',
  lock: 'chatsafe/v1/lock',
} as const;
export type MetaLabel = (typeof META_LABELS)[keyof typeof META_LABELS];

/** Decompressed metadata larger than this is refused (hostile input). */
const META_LIMIT = 512 * 1024 * 1024;

export function sealJson(metaKey: Buffer, label: MetaLabel, value: unknown): { bytes: Buffer; name: string } {
  const { flag, body } = maybeCompress(Buffer.from(JSON.stringify(value), 'utf8'));
  const bytes = seal(metaKey, aadOf(label), Uint8Array.of(flag), body);
  return { bytes, name: storageName([bytes]) };
}

/**
 * `sealJson` for a large document written in pieces (an index file): compressed as it is written,
 * so its text is never held whole; stored as it is in the rare case that does not pay.
 */
export function sealJsonDocument(metaKey: Buffer, label: MetaLabel, doc: JsonDocument): { bytes: readonly Buffer[]; name: string } {
  // Each compressed piece is sealed as it comes, and only the sealed pieces are kept: the
  // compressed frame and then its sealed copy in one buffer were twice an index file's size at
  // once (60 MiB as a prune merged a 6 GiB export's index files into one).
  const aad = aadOf(label);
  const bytes: Buffer[] = [];
  const keep = (piece: Buffer) => bytes.push(piece);
  let sealer = new StreamSealer(metaKey, aad, keep);
  sealer.update(Uint8Array.of(FLAG_ZSTD));
  if (!compressDocumentTo(doc, (piece) => sealer.update(piece))) {
    bytes.length = 0;
    sealer = new StreamSealer(metaKey, aad, keep);
    sealer.update(Uint8Array.of(FLAG_STORED));
    doc.writeTo((piece) => sealer.update(piece));
  }
  sealer.finish();
  return { bytes, name: storageName(bytes) };
}

/** Objects are stored under the SHA-256 of their bytes: anything else was modified, damaged or swapped. */
export function checkNamed(bytes: Uint8Array, name: string, object: string): void {
  if (storageName([bytes]) !== name) throw new IntegrityError(object, 'contents do not match the object name (modified, damaged or swapped)');
}

export function openJson<T>(metaKey: Buffer, label: MetaLabel, bytes: Buffer, object: string, schema: JsonValidator<T>, expectedName?: string): T {
  if (expectedName !== undefined) checkNamed(bytes, expectedName, object);
  let payload: Buffer;
  try {
    payload = open(metaKey, aadOf(label), bytes);
  } catch (e) {
    if (e instanceof AuthenticationFailed) throw new IntegrityError(object, 'fails authentication');
    throw e;
  }
  let json: unknown;
  try {
    json = JSON.parse(decodeBoundedPayload(payload, META_LIMIT, object).toString('utf8'));
  } catch (e) {
    if (e instanceof IntegrityError) throw e;
    throw new IntegrityError(object, 'is not valid JSON');
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new IntegrityError(object, `is malformed (${parsed.error.issues[0]?.path.join('.') ?? ''})`);
  return parsed.data;
}
