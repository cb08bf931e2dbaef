/**
 * K as the vault stores it: AES-256-GCM under a key derived (HKDF-SHA256) from
 * the OPAQUE export key. The export key exists only on a client that knows the
 * password, so the vault holds a blob it cannot open. The account id is bound
 * as associated data: an envelope moved to another account does not open.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { ChatsafeError } from '../errors.js';

const VERSION = 1;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
const HKDF_INFO = Buffer.from('chatsafe/vault/root-key-envelope/v1');

function wrappingKey(exportKey: string): Buffer {
  const ikm = Buffer.from(exportKey, 'base64url');
  if (ikm.length < 32) throw new ChatsafeError('integrity', 'The vault login produced a malformed export key.', 'Update Chatsafe and the vault to matching versions.');
  return Buffer.from(hkdfSync('sha256', ikm, Buffer.alloc(0), HKDF_INFO, 32));
}

function aad(accountId: string): Buffer {
  return Buffer.from(`chatsafe-vault-v1:${accountId}`);
}

export function sealRootKey(exportKey: string, accountId: string, rootKey: Buffer): string {
  if (rootKey.length !== KEY_BYTES) throw new ChatsafeError('usage', `The root key must be ${KEY_BYTES} bytes.`);
  const key = wrappingKey(exportKey);
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(aad(accountId));
  const ct = Buffer.concat([cipher.update(rootKey), cipher.final()]);
  key.fill(0);
  return Buffer.concat([Buffer.from([VERSION]), nonce, ct, cipher.getAuthTag()]).toString('base64url');
}

export function openRootKey(exportKey: string, accountId: string, sealed: string): Buffer {
  const blob = Buffer.from(sealed, 'base64url');
  if (blob.length !== 1 + NONCE_BYTES + KEY_BYTES + TAG_BYTES || blob[0] !== VERSION) {
    throw new ChatsafeError('integrity', 'The key vault returned a malformed key envelope.', 'The vault may be damaged or not a Chatsafe vault; check the vault address.');
  }
  const key = wrappingKey(exportKey);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, blob.subarray(1, 1 + NONCE_BYTES));
    decipher.setAAD(aad(accountId));
    decipher.setAuthTag(blob.subarray(blob.length - TAG_BYTES));
    return Buffer.concat([decipher.update(blob.subarray(1 + NONCE_BYTES, blob.length - TAG_BYTES)), decipher.final()]);
  } catch (e) {
    throw new ChatsafeError('integrity', 'The key the vault returned does not decrypt: it was altered or belongs to another account.', 'Check the vault address; if it is right, the vault record is damaged.', { cause: e });
  } finally {
    key.fill(0);
  }
}
