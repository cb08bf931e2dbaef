/**
 * Test-only writer of WhatsApp .crypt12/.crypt14/.crypt15 files and key
 * files, built from the format description in docs/whatsapp-backups.md. It
 * derives the crypt15 key with WhatsApp's HMAC loop written out step by step
 * (not with HKDF as the decryptor does), so the two cross-check each other.
 */
import { createCipheriv, createHash, createHmac, randomBytes } from 'node:crypto';

export function varint(n: number): Buffer {
  const out: number[] = [];
  let v = n;
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return Buffer.from(out);
}

function pbBytes(field: number, value: Buffer): Buffer {
  return Buffer.concat([varint((field << 3) | 2), varint(value.length), value]);
}

function pbVarint(field: number, value: number): Buffer {
  return Buffer.concat([varint(field << 3), varint(value)]);
}

/** Java's ObjectOutputStream form of a byte[]. */
export function javaByteArray(arr: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(arr.length);
  return Buffer.concat([
    Buffer.from('aced0005757200025b42acf317f8060854e00200007870', 'hex'),
    len,
    arr,
  ]);
}

/** WhatsApp's loop: HMAC(zero key, root) gives a private key; one round of HMAC(private, "backup encryption" || 01). */
export function crypt15CipherKey(root: Buffer): Buffer {
  const priv = createHmac('sha256', Buffer.alloc(32)).update(root).digest();
  return createHmac('sha256', priv).update(Buffer.from('backup encryption')).update(Buffer.from([1])).digest();
}

export interface LegacyKey {
  readonly serverSalt: Buffer;
  readonly googleId: Buffer;
  readonly aesKey: Buffer;
  /** The 131-byte array. */
  readonly array: Buffer;
  /** The `key` file as the phone stores it. */
  readonly file: Buffer;
}

export function makeLegacyKey(keyVersion = 2): LegacyKey {
  const serverSalt = randomBytes(32);
  const googleId = randomBytes(16);
  const aesKey = randomBytes(32);
  const array = Buffer.concat([
    Buffer.from([0x00, 0x01, keyVersion]),
    serverSalt,
    googleId,
    createHash('sha256').update(googleId).digest(),
    Buffer.alloc(16),
    aesKey,
  ]);
  return { serverSalt, googleId, aesKey, array, file: javaByteArray(array) };
}

function gcm(key: Buffer, iv: Buffer, payload: Buffer): { ct: Buffer; tag: Buffer } {
  const c = createCipheriv('aes-256-gcm', key, iv);
  const ct = Buffer.concat([c.update(payload), c.final()]);
  return { ct, tag: c.getAuthTag() };
}

function info(): Buffer {
  // app_version, jid suffix, a few feature flags as a msgstore backup has them.
  return Buffer.concat([pbBytes(1, Buffer.from('2.24.10.11')), pbBytes(3, Buffer.from('42')), pbVarint(5, 1), pbVarint(6, 1), pbVarint(39, 1)]);
}

export interface EncodeOptions {
  /** Leave out the MD5 trailer, as multi-file backups do. */
  readonly noMd5?: boolean;
  /** Write the header length as one byte followed by a 0x01 "feature" byte (an older writer's layout). */
  readonly legacyFlag?: boolean;
}

function withPrefix(prefix: Buffer, opts: EncodeOptions): Buffer {
  if (opts.legacyFlag) {
    if (prefix.length > 255) throw new Error('prefix too long for the one-byte layout');
    return Buffer.concat([Buffer.from([prefix.length, 0x01]), prefix]);
  }
  return Buffer.concat([varint(prefix.length), prefix]);
}

function seal(header: Buffer, key: Buffer, iv: Buffer, payload: Buffer, opts: EncodeOptions, suffix = Buffer.alloc(0)): Buffer {
  const { ct, tag } = gcm(key, iv, payload);
  const body = Buffer.concat([header, ct, tag]);
  if (opts.noMd5) return Buffer.concat([body, suffix]);
  return Buffer.concat([body, createHash('md5').update(body).digest(), suffix]);
}

/** A .crypt15 file of `payload` (already zlib-compressed, or a ZIP) under the 32-byte root key. */
export function encodeCrypt15(payload: Buffer, root: Buffer, opts: EncodeOptions = {}): Buffer {
  const iv = randomBytes(16);
  const prefix = Buffer.concat([pbVarint(1, 1), pbBytes(3, pbBytes(1, iv)), pbBytes(4, info())]);
  return seal(withPrefix(prefix, opts), crypt15CipherKey(root), iv, payload, opts);
}

export function encodeCrypt14(payload: Buffer, key: LegacyKey, opts: EncodeOptions = {}): Buffer {
  const iv = randomBytes(16);
  const cipher = Buffer.concat([
    pbBytes(1, Buffer.from([0x00, 0x01])),
    pbBytes(2, Buffer.from('2')),
    pbBytes(3, key.serverSalt),
    pbBytes(4, key.googleId),
    pbBytes(5, iv),
  ]);
  const prefix = Buffer.concat([pbVarint(1, 0), pbBytes(2, cipher), pbBytes(4, info())]);
  return seal(withPrefix(prefix, opts), key.aesKey, iv, payload, opts);
}

export function encodeCrypt12(payload: Buffer, key: LegacyKey, jidSuffix = '42'): Buffer {
  const iv = randomBytes(16);
  const header = Buffer.concat([key.array.subarray(0, 3), key.serverSalt, key.googleId, iv]);
  return seal(header, key.aesKey, iv, payload, {}, Buffer.from(`--${jidSuffix}`, 'latin1'));
}
