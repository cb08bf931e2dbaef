/**
 * WhatsApp backup keys, as people hand them to us: the 64-digit key of an
 * end-to-end encrypted backup (typed, or its `encrypted_backup.key` file), or
 * the older `key` file of crypt12/crypt14 backups. The bytes live in a
 * module-private WeakMap, so a WhatsAppKey object has nothing to print,
 * serialize or inspect.
 */
import { createHash, hkdfSync, timingSafeEqual } from 'node:crypto';
import { stat, readFile } from 'node:fs/promises';
import { inspect } from 'node:util';
import { ChatsafeError, UsageError } from '../../errors.js';
import { looksJavaSerialized, readJavaByteArray } from './java-byte-array.js';

export type WhatsAppBackupFormat = 'crypt12' | 'crypt14' | 'crypt15';

/** A parsed key. Which backups it opens, and how it was given; never the bytes. */
export interface WhatsAppKey {
  /** `crypt15`: the end-to-end root key; `crypt12-14`: the phone's `key` file. */
  readonly kind: 'crypt15' | 'crypt12-14';
  /** `typed`: 64 hex digits; `file`: a key file's bytes. */
  readonly source: 'typed' | 'file';
}

/** What the decryptor needs; reachable only through keyMaterial() inside this folder. */
export type KeyMaterial =
  | { readonly kind: 'crypt15'; readonly root: Buffer; readonly typed: boolean }
  | {
      readonly kind: 'crypt12-14';
      readonly keyVersion: number;
      readonly serverSalt: Buffer;
      readonly googleId: Buffer;
      readonly aesKey: Buffer;
    };

const MATERIAL = new WeakMap<WhatsAppKey, KeyMaterial>();

class OpaqueWhatsAppKey implements WhatsAppKey {
  constructor(
    readonly kind: WhatsAppKey['kind'],
    readonly source: WhatsAppKey['source'],
  ) {
    Object.freeze(this);
  }
  toString(): string {
    return `[WhatsAppKey ${this.kind}, ${this.source}]`;
  }
  toJSON(): { kind: string; source: string } {
    return { kind: this.kind, source: this.source };
  }
  [inspect.custom](): string {
    return this.toString();
  }
}

function makeKey(material: KeyMaterial, source: WhatsAppKey['source']): WhatsAppKey {
  const key = new OpaqueWhatsAppKey(material.kind, source);
  MATERIAL.set(key, material);
  return key;
}

/** The bytes behind a key made by this module; anything else is refused. */
export function keyMaterial(key: WhatsAppKey): KeyMaterial {
  const m = MATERIAL.get(key);
  if (!m) throw new UsageError('This WhatsApp key was not made by parseWhatsAppKey or loadWhatsAppKey.');
  return m;
}

/**
 * The AES-256-GCM key of a crypt15 backup. WhatsApp derives it from the root
 * key with an HMAC-SHA256 loop (extract with a zero key, then one expand round
 * over "backup encryption" || 0x01), which is exactly HKDF-SHA256 with an
 * all-zero salt and that info string.
 */
export function crypt15BackupKey(root: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', root, Buffer.alloc(32), 'backup encryption', 32));
}

const KEY_HINT =
  'Give the 64-digit key exactly as WhatsApp showed it (spaces and dashes are fine), or the key file from the phone: `encrypted_backup.key` for .crypt15 backups, `key` for .crypt12/.crypt14.';

/** 64 hex digits, as typed: spaces, dashes and case do not matter. The digits never appear in an error. */
export function parseTypedKey(text: string): WhatsAppKey {
  const digits = text.replace(/[\s-]/g, '');
  if (!/^[0-9a-fA-F]*$/.test(digits)) {
    throw new UsageError('The WhatsApp key contains characters other than the digits 0-9 and letters a-f.', KEY_HINT);
  }
  if (digits.length !== 64) {
    throw new UsageError(`A WhatsApp 64-digit key has 64 hex digits; this one has ${digits.length}.`, KEY_HINT);
  }
  return makeKey({ kind: 'crypt15', root: Buffer.from(digits, 'hex'), typed: true }, 'typed');
}

// Layout of the 131-byte array inside a crypt12/crypt14 `key` file.
const LEGACY_KEY_LENGTH = 131;
const LEGACY_CIPHER_VERSION = Buffer.from([0x00, 0x01]);

function parseLegacyKey(arr: Buffer, label: string): WhatsAppKey {
  const cipherVersion = arr.subarray(0, 2);
  const keyVersion = arr[2] ?? 0;
  const serverSalt = arr.subarray(3, 35);
  const googleId = arr.subarray(35, 51);
  const googleIdHash = arr.subarray(51, 83);
  const aesKey = arr.subarray(99, 131);
  if (!cipherVersion.equals(LEGACY_CIPHER_VERSION) || keyVersion < 1 || keyVersion > 3) {
    throw new ChatsafeError('unsupported', `${label} is a WhatsApp key file of a version Chatsafe does not know.`, KEY_HINT);
  }
  // The file carries SHA-256(googleId) beside googleId: a built-in check that the file is intact.
  if (!timingSafeEqual(createHash('sha256').update(googleId).digest(), googleIdHash)) {
    throw new ChatsafeError('integrity', `${label} is damaged: its internal checksum does not match.`, 'Copy the `key` file from the phone again.');
  }
  return makeKey(
    {
      kind: 'crypt12-14',
      keyVersion,
      serverSalt: Buffer.from(serverSalt),
      googleId: Buffer.from(googleId),
      aesKey: Buffer.from(aesKey),
    },
    'file',
  );
}

/** The longest text file we still read as "64 digits saved in a text file". */
const MAX_TEXT_KEY_BYTES = 512;

function parseKeyBytes(bytes: Buffer, label: string): WhatsAppKey {
  if (looksJavaSerialized(bytes)) {
    const arr = readJavaByteArray(bytes);
    if (arr?.length === 32) return makeKey({ kind: 'crypt15', root: Buffer.from(arr), typed: false }, 'file');
    if (arr?.length === LEGACY_KEY_LENGTH) return parseLegacyKey(arr, label);
    throw new ChatsafeError('usage', `${label} is not a WhatsApp key file (a serialized byte array of ${arr ? arr.length : 'unreadable'} length).`, KEY_HINT);
  }
  // People also keep the 64 digits in a text file or password-manager export.
  if (bytes.length <= MAX_TEXT_KEY_BYTES) {
    const text = bytes.toString('latin1').trim();
    if (/^[0-9a-fA-F\s-]+$/.test(text)) {
      const key = parseTypedKey(text);
      return makeKey(keyMaterial(key), 'file');
    }
  }
  throw new ChatsafeError('usage', `${label} is not a WhatsApp key file.`, KEY_HINT);
}

/** 64 hex digits as typed (spaces, dashes, case ignored), or the raw bytes of a phone key file. */
export function parseWhatsAppKey(input: string | Buffer): WhatsAppKey {
  return typeof input === 'string' ? parseTypedKey(input) : parseKeyBytes(input, 'The key file');
}

/** Key files are tiny (59 and 158 bytes); anything much larger is something else. */
const MAX_KEY_FILE_BYTES = 64 * 1024;

/**
 * True when an argument is meant as typed digits rather than a path: only
 * hex digits, spaces and dashes, or mostly hex digits and long (a typo'd key
 * must not be echoed back as "no file named ...").
 */
function looksTyped(arg: string): boolean {
  const compact = arg.replace(/[\s-]/g, '');
  if (compact.length === 0) return true;
  if (/^[0-9a-fA-F]+$/.test(compact)) return true;
  const hex = compact.replace(/[^0-9a-fA-F]/g, '').length;
  return compact.length >= 32 && hex / compact.length >= 0.85 && !/[/\\]/.test(arg);
}

/** A CLI/UI argument: a path to a key file if one exists there, else typed digits. */
export async function loadWhatsAppKey(arg: string): Promise<WhatsAppKey> {
  const st = await stat(arg).catch(() => null);
  if (st?.isFile()) {
    if (st.size > MAX_KEY_FILE_BYTES) {
      throw new ChatsafeError('usage', `${arg} is too large (${st.size} bytes) to be a WhatsApp key file.`, KEY_HINT);
    }
    let bytes: Buffer;
    try {
      bytes = await readFile(arg);
    } catch (e) {
      throw new ChatsafeError('io', `Could not read the key file ${arg}: ${(e as NodeJS.ErrnoException).code ?? 'error'}.`, 'Check that the file is readable.', { cause: e });
    }
    return parseKeyBytes(bytes, arg);
  }
  if (st?.isDirectory()) throw new UsageError(`${arg} is a folder, not a WhatsApp key file.`, KEY_HINT);
  if (looksTyped(arg)) return parseTypedKey(arg);
  throw new ChatsafeError('not-found', `No key file at ${arg}, and it is not a 64-digit key either.`, KEY_HINT);
}
