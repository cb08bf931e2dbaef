/**
 * The `.chatsafe` bundle: one snapshot as a single file, for support tickets
 * and removable media.
 *   magic (16) || header length (u32 BE) || header (JSON, cleartext) || sealed segments
 * The cleartext header holds only what support may see without the key, plus
 * copies of the repository's key slots and its header (so the same 64-digit
 * key or password opens the bundle). The bundle key is derived from the
 * repository master key with a random salt; every segment's associated data
 * is the SHA-256 of the header, so the header cannot be changed either.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { ChatsafeError, IntegrityError } from '../errors.js';
import { KeySlotSchema } from '../keys/slots.js';
import { isPrintableUpTo } from '../repo/json-shape.js';
import { isLinkTarget, isNodeMode, isNodeTime } from '../repo/tree.js';

export const BUNDLE_MAGIC = Buffer.from('CHATSAFE-BUNDLE\x01', 'latin1');
export const MAX_HEADER_BYTES = 1024 * 1024;

/** A key slot, checked by its own validator (kept free of zod so the backup path need not load it). */
const BundleSlot = z.unknown().transform((slot, ctx) => {
  const parsed = KeySlotSchema.safeParse(slot);
  if (parsed.success) return parsed.data;
  ctx.addIssue({ code: 'custom', message: 'invalid key slot' });
  return z.NEVER;
});

const b64 = (bytes: number) => z.string().refine((s) => /^[A-Za-z0-9+/]+={0,2}$/.test(s) && Buffer.from(s, 'base64').length === bytes);

export const BundleHeaderSchema = z
  .object({
    format: z.literal('chatsafe-bundle'),
    version: z.literal(1),
    created: z.string().datetime(),
    appVersion: z.string().refine((s) => isPrintableUpTo(s, 64)),
    repository: z.string().max(8192), // base64 of the repository's `config` bytes
    slots: z.array(BundleSlot).min(1).max(64),
    salt: b64(32),
    noncePrefix: b64(7),
    files: z.number().int().nonnegative(),
    bytes: z.number().int().nonnegative(),
    snapshotTime: z.string().datetime(),
  })
  .strict();
export type BundleHeader = z.infer<typeof BundleHeaderSchema>;

export function encodeHeader(header: BundleHeader): Buffer {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32BE(json.length);
  return Buffer.concat([BUNDLE_MAGIC, len, json]);
}

/** Parses the start of a bundle file; returns the header, its hash and where the segments start. */
export function decodeHeader(prefix: Buffer, object: string): { header: BundleHeader; hash: Buffer; payloadOffset: number } {
  if (prefix.length < BUNDLE_MAGIC.length || !prefix.subarray(0, BUNDLE_MAGIC.length).equals(BUNDLE_MAGIC)) {
    throw new ChatsafeError('not-found', `${object} is not a Chatsafe bundle.`, 'A bundle is a .chatsafe file made by `chatsafe export`.');
  }
  if (prefix.length < BUNDLE_MAGIC.length + 4) throw new IntegrityError(object, 'the bundle is truncated (its header length is missing)');
  const len = prefix.readUInt32BE(BUNDLE_MAGIC.length);
  const start = BUNDLE_MAGIC.length + 4;
  if (len > MAX_HEADER_BYTES || prefix.length < start + len) throw new IntegrityError(object, 'the bundle header is truncated or impossibly large');
  const bytes = prefix.subarray(start, start + len);
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new IntegrityError(object, 'the bundle header is not valid JSON');
  }
  const parsed = BundleHeaderSchema.safeParse(json);
  if (!parsed.success) throw new IntegrityError(object, 'the bundle header is malformed');
  return { header: parsed.data, hash: createHash('sha256').update(prefix.subarray(0, start + len)).digest(), payloadOffset: start + len };
}

/** Payload record types (inside the encryption). */
export const RECORD = { manifest: 1, end: 0xff } as const;

// The rules of a tree's nodes (FORMAT.md §8): a restore hands these values to the file system as they are.
const mode = z.number().refine(isNodeMode);
const mtimeNs = z.string().refine(isNodeTime);
const EntrySchema = z.discriminatedUnion('type', [
  z.object({ path: z.string(), type: z.literal('file'), mode, mtimeNs, size: z.number().int().nonnegative() }).strict(),
  z.object({ path: z.string(), type: z.literal('dir'), mode, mtimeNs }).strict(),
  z.object({ path: z.string(), type: z.literal('symlink'), mode, mtimeNs, target: z.string().refine(isLinkTarget) }).strict(),
]);
export type BundleEntry = z.infer<typeof EntrySchema>;

export const ManifestSchema = z
  .object({
    snapshotId: z.string().regex(/^[0-9a-f]{64}$/),
    snapshot: z.unknown(),
    entries: z.array(EntrySchema),
    catalogSize: z.number().int().nonnegative().nullable(),
  })
  .strict();
export type Manifest = z.infer<typeof ManifestSchema>;
