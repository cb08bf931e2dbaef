/**
 * The vault master key wraps every stored record (and the OPAQUE server
 * setup) a second time, so a copy of the database alone is useless: in
 * production the key lives in an HSM and never leaves it (pkcs11-master-key.ts).
 * The file-based key here exists for development only and is named so.
 *
 * Sealed format: version byte, 12-byte nonce, AES-256-GCM ciphertext and tag;
 * the caller's context string (table and row id) is the associated data, so a
 * record cannot be moved to another account.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { ChatsafeError } from '../core/errors.js';

export const SEAL_VERSION = 1;
export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;

export interface MasterKey {
  /** What kind of key this is, for /healthz and the startup log line. */
  readonly kind: 'pkcs11' | 'insecure-dev-file';
  seal(plain: Buffer, context: string): Buffer;
  open(sealed: Buffer, context: string): Buffer;
  close(): void;
}

export function sealError(cause?: unknown): ChatsafeError {
  return new ChatsafeError('integrity', 'A vault record does not decrypt under the vault master key: it was altered, or the master key is not the one it was written with.', 'Start the vault with the HSM token (or key file) it was created with.', { cause });
}

/** AES-256-GCM with a key held in this process. Development only. */
class FileMasterKey implements MasterKey {
  readonly kind = 'insecure-dev-file' as const;
  constructor(private readonly key: Buffer) {}
  seal(plain: Buffer, context: string): Buffer {
    const nonce = randomBytes(NONCE_BYTES);
    const c = createCipheriv('aes-256-gcm', this.key, nonce);
    c.setAAD(Buffer.from(context));
    const ct = Buffer.concat([c.update(plain), c.final()]);
    return Buffer.concat([Buffer.from([SEAL_VERSION]), nonce, ct, c.getAuthTag()]);
  }
  open(sealed: Buffer, context: string): Buffer {
    if (sealed.length < 1 + NONCE_BYTES + TAG_BYTES || sealed[0] !== SEAL_VERSION) throw sealError();
    try {
      const d = createDecipheriv('aes-256-gcm', this.key, sealed.subarray(1, 1 + NONCE_BYTES));
      d.setAAD(Buffer.from(context));
      d.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
      return Buffer.concat([d.update(sealed.subarray(1 + NONCE_BYTES, sealed.length - TAG_BYTES)), d.final()]);
    } catch (e) {
      throw sealError(e);
    }
  }
  close(): void {
    this.key.fill(0);
  }
}

/** Reads the 64-hex-digit key file, creating it (mode 0600, written whole then renamed) when absent. */
export function openInsecureDevMasterKey(path: string): MasterKey {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new ChatsafeError('io', `Cannot read the master key file ${path}.`, 'Check the path and its permissions.', { cause: e });
    text = randomBytes(32).toString('hex');
    const tmp = `${path}.tmp-${process.pid}`;
    const fd = openSync(tmp, 'wx', 0o600);
    try {
      writeSync(fd, `${text}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  }
  const hex = text.trim();
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) throw new ChatsafeError('usage', `The master key file ${path} must hold exactly 64 hex digits.`, 'Point --insecure-dev-master-key at a new path to have one created.');
  return new FileMasterKey(Buffer.from(hex, 'hex'));
}
