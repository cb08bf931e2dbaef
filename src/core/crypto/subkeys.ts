/**
 * Every key the repository uses is derived with HKDF-SHA256 from one of two
 * secrets, under a distinct label, so no key ever serves two purposes:
 * - the root key K (what the user keeps) → key-check value and slot wrapping key, salted per slot;
 * - the repository master key MK (random, held in slots) → data, metadata,
 *   blob-id and chunker keys, salted with the repository id.
 * Labels are part of the format (docs/FORMAT.md); changing one breaks every repository.
 */
import { hkdfSync } from 'node:crypto';

export const LABELS = {
  keyCheck: 'chatsafe/v1/key-check',
  slotWrap: 'chatsafe/v1/slot-wrap',
  data: 'chatsafe/v1/data',
  meta: 'chatsafe/v1/meta',
  blobId: 'chatsafe/v1/blob-id',
  chunker: 'chatsafe/v1/chunker',
  bundle: 'chatsafe/v1/bundle',
} as const;
export type SubkeyLabel = (typeof LABELS)[keyof typeof LABELS];

export function hkdf(secret: Uint8Array, salt: Uint8Array, label: SubkeyLabel, length = 32): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, salt, Buffer.from(label, 'utf8'), length));
}
