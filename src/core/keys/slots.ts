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
import { aadOf, AuthenticationFailed, open, seal } from '../crypto/aead.js';
import { sameBytes } from '../crypto/ids.js';
import { hkdf, LABELS } from '../crypto/subkeys.js';
import { IntegrityError } from '../errors.js';
import { fitsLength, isIsoDateTime, isLowerHex, isRecord, isStringUpTo, Malformed, rejectUnknownKeys, validatorOf, type JsonValidator } from '../repo/json-shape.js';
import type { RootKey } from './root-key.js';

export const MASTER_KEY_BYTES = 32;
const SALT_BYTES = 32;
const CHECK_BYTES = 16;

const WRAPPED_BYTES = 12 + MASTER_KEY_BYTES + 16;
const MAX_VAULT_URL = 2048;
const MAX_ACCOUNT_ID = 200;

interface SlotCommon {
  v: 1;
  /** 32 lowercase hex digits, random; also the slot's file name. */
  id: string;
  /** UTC, as `Date#toISOString` writes it. */
  created: string;
  /** Base64 of SALT_BYTES, CHECK_BYTES and the sealed master key. */
  salt: string;
  check: string;
  wrapped: string;
}

export interface KeyFileSlot extends SlotCommon {
  kind: 'key';
}

export interface PasswordSlot extends SlotCommon {
  kind: 'password';
  vault: { url: string; accountId: string };
}

export type KeySlot = KeyFileSlot | PasswordSlot;
export type SlotKind = KeySlot['kind'];

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Base64 that decodes to exactly `bytes` bytes. */
function isBase64Of(s: unknown, bytes: number): s is string {
  return typeof s === 'string' && BASE64.test(s) && Buffer.from(s, 'base64').length === bytes;
}

/**
 * A vault address as the former schema took it: whatever the URL parser
 * accepts once surrounding whitespace is trimmed, returned with ASCII tabs
 * and line breaks removed (the parser ignores them, so they must not hide a
 * different host from whoever reads the slot), at most 2048 code points.
 * Returns null when it is not one.
 */
function vaultUrl(s: unknown): string | null {
  if (typeof s !== 'string') return null;
  const trimmed = s.trim();
  if (!URL.canParse(trimmed)) return null;
  const url = trimmed.replace(/[\t\n\r]/g, '');
  return fitsLength(url, 0, MAX_VAULT_URL) ? url : null;
}

const KEY_SLOT_KEYS: ReadonlySet<string> = new Set(['v', 'id', 'created', 'salt', 'check', 'wrapped', 'kind']);
const PASSWORD_SLOT_KEYS: ReadonlySet<string> = new Set([...KEY_SLOT_KEYS, 'vault']);
const VAULT_KEYS: ReadonlySet<string> = new Set(['url', 'accountId']);

/** Strict: the slot's `kind` picks its fields and unknown keys are refused. Returns a fresh object. */
function parseSlot(json: unknown): KeySlot {
  if (!isRecord(json)) throw new Malformed([], 'expected an object');
  const kind = json.kind;
  if (kind !== 'key' && kind !== 'password') throw new Malformed(['kind'], 'expected key or password');
  if (json.v !== 1) throw new Malformed(['v'], 'expected 1');
  if (!isLowerHex(json.id, 32)) throw new Malformed(['id'], 'expected 32 hex digits');
  if (!isIsoDateTime(json.created)) throw new Malformed(['created'], 'expected a UTC date and time');
  if (!isBase64Of(json.salt, SALT_BYTES)) throw new Malformed(['salt'], `expected base64 of ${SALT_BYTES} bytes`);
  if (!isBase64Of(json.check, CHECK_BYTES)) throw new Malformed(['check'], `expected base64 of ${CHECK_BYTES} bytes`);
  if (!isBase64Of(json.wrapped, WRAPPED_BYTES)) throw new Malformed(['wrapped'], `expected base64 of ${WRAPPED_BYTES} bytes`);
  const common: SlotCommon = { v: 1, id: json.id, created: json.created, salt: json.salt, check: json.check, wrapped: json.wrapped };
  if (kind === 'key') {
    rejectUnknownKeys(json, 7, KEY_SLOT_KEYS, []);
    return { ...common, kind };
  }
  const vault = json.vault;
  if (!isRecord(vault)) throw new Malformed(['vault'], 'expected an object');
  const url = vaultUrl(vault.url);
  if (url === null) throw new Malformed(['vault', 'url'], `expected a URL of at most ${MAX_VAULT_URL} characters`);
  const accountId = vault.accountId;
  if (!isStringUpTo(accountId, MAX_ACCOUNT_ID) || accountId.length === 0) throw new Malformed(['vault', 'accountId'], `expected 1 to ${MAX_ACCOUNT_ID} characters`);
  rejectUnknownKeys(vault, 2, VAULT_KEYS, ['vault']);
  rejectUnknownKeys(json, 8, PASSWORD_SLOT_KEYS, []);
  return { ...common, kind, vault: { url, accountId } };
}

/** Validates a parsed key slot; named like the zod schema it replaced, with the same `safeParse`. */
export const KeySlotSchema: JsonValidator<KeySlot> = validatorOf(parseSlot);

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
