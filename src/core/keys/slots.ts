/**
 * Key slots: each holds the repository master key MK wrapped under a key
 * derived from a root key K, so K can be added, removed or replaced without
 * touching any data. A slot also stores a key-check value derived from K: it
 * tells "this is not the key" from "this slot is damaged", and lets us find a
 * single mistyped digit without ever storing anything that decrypts MK.
 *
 * A `password` slot is identical except that K is kept by a key vault behind
 * the user's password; the slot records where.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { aadOf, AuthenticationFailed, open, seal } from '../crypto/aead.js';
import { sameBytes } from '../crypto/ids.js';
import { hkdf, LABELS } from '../crypto/subkeys.js';
import { IntegrityError } from '../errors.js';
import type { RootKey } from './root-key.js';

export const MASTER_KEY_BYTES = 32;
const SALT_BYTES = 32;
const CHECK_BYTES = 16;

const b64 = (bytes: number) =>
  z
    .string()
    .regex(/^[A-Za-z0-9+/]+={0,2}$/)
    .refine((s) => Buffer.from(s, 'base64').length === bytes, `must be ${bytes} bytes`);

const slotCommon = {
  v: z.literal(1),
  id: z.string().regex(/^[0-9a-f]{32}$/),
  created: z.string().datetime(),
  salt: b64(SALT_BYTES),
  check: b64(CHECK_BYTES),
  wrapped: b64(12 + MASTER_KEY_BYTES + 16),
};

export const KeySlotSchema = z.discriminatedUnion('kind', [
  z.object({ ...slotCommon, kind: z.literal('key') }).strict(),
  z
    .object({
      ...slotCommon,
      kind: z.literal('password'),
      vault: z.object({ url: z.string().url().max(2048), accountId: z.string().min(1).max(200) }).strict(),
    })
    .strict(),
]);
export type KeySlot = z.infer<typeof KeySlotSchema>;
export type SlotKind = KeySlot['kind'];

export function keyCheckValue(k: RootKey, salt: Buffer): Buffer {
  return k.use((bytes) => hkdf(bytes, salt, LABELS.keyCheck, CHECK_BYTES));
}

function slotAad(slotId: string, configHash: Buffer): Buffer {
  return aadOf(LABELS.slotWrap, Buffer.from(slotId, 'hex'), configHash);
}

export function createSlot(
  k: RootKey,
  masterKey: Buffer,
  configHash: Buffer,
  where: { kind: 'key' } | { kind: 'password'; vault: { url: string; accountId: string } },
): KeySlot {
  const id = randomBytes(16).toString('hex');
  const salt = randomBytes(SALT_BYTES);
  const kek = k.use((bytes) => hkdf(bytes, salt, LABELS.slotWrap));
  const wrapped = seal(kek, slotAad(id, configHash), masterKey);
  kek.fill(0);
  const common = {
    v: 1 as const,
    id,
    created: new Date().toISOString(),
    salt: salt.toString('base64'),
    check: keyCheckValue(k, salt).toString('base64'),
    wrapped: wrapped.toString('base64'),
  };
  return where.kind === 'key' ? { ...common, kind: 'key' } : { ...common, kind: 'password', vault: where.vault };
}

/** Whether K is the key of this slot (by its check value; constant time). */
export function slotMatches(slot: KeySlot, k: RootKey): boolean {
  return sameBytes(keyCheckValue(k, Buffer.from(slot.salt, 'base64')), Buffer.from(slot.check, 'base64'));
}

/** Unwraps MK from a slot K matches; a slot that matches but does not open is damaged. */
export function unwrapSlot(slot: KeySlot, k: RootKey, configHash: Buffer): Buffer {
  const kek = k.use((bytes) => hkdf(bytes, Buffer.from(slot.salt, 'base64'), LABELS.slotWrap));
  try {
    return open(kek, slotAad(slot.id, configHash), Buffer.from(slot.wrapped, 'base64'));
  } catch (e) {
    if (e instanceof AuthenticationFailed) {
      throw new IntegrityError(`keys/${slot.id}`, 'the key is right, but this key slot or the repository header was modified or damaged');
    }
    throw e;
  } finally {
    kek.fill(0);
  }
}

export function encodeSlot(slot: KeySlot): Buffer {
  return Buffer.from(`${JSON.stringify(slot)}\n`, 'utf8');
}

export function decodeSlot(name: string, bytes: Buffer): KeySlot {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new IntegrityError(`keys/${name}`, 'the key slot is not valid JSON');
  }
  const parsed = KeySlotSchema.safeParse(json);
  if (!parsed.success || parsed.data.id !== name) throw new IntegrityError(`keys/${name}`, 'the key slot is malformed');
  return parsed.data;
}
