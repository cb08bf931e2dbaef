/**
 * The cleartext header at the start of a WhatsApp encrypted backup, and the
 * trailer at its end (docs/whatsapp-backups.md has the full layout).
 *
 * crypt12: a raw header of fixed size
 *   cipher version (00 01) | key version (1 byte) | server salt (32) | google id (16) | IV (16)
 * and a trailer: GCM tag (16) | MD5 of everything before (16) | last two digits of the phone number as "--NN" (4).
 *
 * crypt14 / crypt15: a length-prefixed protobuf `BackupPrefix`
 *   1 key_type (varint: 0 for crypt14, 1 for crypt15)
 *   2 c14_cipher { 1 cipher_version, 2 key_version, 3 server_salt, 4 google_id, 5 IV }   (crypt14)
 *   3 c15_iv { 1 IV }                                                                     (crypt15)
 *   4 info { 1 app_version, 3 jid suffix, 4.. feature flags }
 * and a trailer: GCM tag (16) | MD5 of everything before (16); the MD5 is
 * missing in multi-file backups (stickers, wallpapers), whose trailer is the tag alone.
 */
import { bytesField, parseMessage, readVarint, varintField } from './protobuf.js';
import type { WhatsAppBackupFormat } from './key.js';

export const IV_LENGTH = 16;
export const TAG_LENGTH = 16;
export const MD5_LENGTH = 16;
/** crypt12 ends with "--NN" or similar: the last two digits of the phone number. */
export const CRYPT12_SUFFIX_LENGTH = 4;
export const CRYPT12_HEADER_LENGTH = 2 + 1 + 32 + 16 + IV_LENGTH;

/** How many leading bytes sniffing and header parsing read: far more than any header seen so far. */
export const HEADER_PROBE_BYTES = 4096;

export interface BackupHeader {
  readonly format: WhatsAppBackupFormat;
  readonly iv: Buffer;
  /** Where the ciphertext starts. */
  readonly dataOffset: number;
  /** crypt12/14 only: the key generation's salt and account id, compared with the key file's. */
  readonly serverSalt?: Buffer;
  readonly googleId?: Buffer;
  /** The WhatsApp version that wrote the backup, when the header says (for messages only). */
  readonly appVersion?: string;
}

/** Why a header could not be read: `unknown` = not a WhatsApp backup at all; `damaged` = started like one but broke. */
export type HeaderProblem = { readonly problem: 'unknown' | 'damaged'; readonly detail: string };

export function isHeaderProblem(h: BackupHeader | HeaderProblem): h is HeaderProblem {
  return 'problem' in h;
}

function parseCrypt12(head: Buffer): BackupHeader | HeaderProblem {
  if (head.length < CRYPT12_HEADER_LENGTH) return { problem: 'damaged', detail: 'the crypt12 header is cut short' };
  return {
    format: 'crypt12',
    serverSalt: head.subarray(3, 35),
    googleId: head.subarray(35, 51),
    iv: head.subarray(51, 67),
    dataOffset: CRYPT12_HEADER_LENGTH,
  };
}

/** Reads a BackupPrefix message; null when the bytes are not one. */
function parsePrefix(msg: Buffer, dataOffset: number): BackupHeader | HeaderProblem | null {
  const fields = parseMessage(msg);
  if (!fields) return null;
  const keyType = varintField(fields, 1);
  const c14 = bytesField(fields, 2);
  const c15 = bytesField(fields, 3);
  const info = bytesField(fields, 4);
  const infoFields = info ? parseMessage(info) : null;
  const appVersionBytes = infoFields ? bytesField(infoFields, 1) : undefined;
  const appVersion = appVersionBytes && /^[0-9.]{1,32}$/.test(appVersionBytes.toString('latin1')) ? appVersionBytes.toString('latin1') : undefined;
  if (c15 && !c14) {
    const sub = parseMessage(c15);
    const iv = sub ? bytesField(sub, 1) : undefined;
    if (!iv || iv.length !== IV_LENGTH) return { problem: 'damaged', detail: 'the crypt15 header has no valid IV' };
    return { format: 'crypt15', iv, dataOffset, appVersion };
  }
  if (c14 && !c15) {
    const sub = parseMessage(c14);
    const iv = sub ? bytesField(sub, 5) : undefined;
    const serverSalt = sub ? bytesField(sub, 3) : undefined;
    const googleId = sub ? bytesField(sub, 4) : undefined;
    if (!iv || iv.length !== IV_LENGTH) return { problem: 'damaged', detail: 'the crypt14 header has no valid IV' };
    return { format: 'crypt14', iv, dataOffset, serverSalt, googleId, appVersion };
  }
  // A well-formed message without exactly one cipher section: only trust it as ours if key_type says so.
  if (keyType === 0n || keyType === 1n) return { problem: 'damaged', detail: 'the header has no cipher section' };
  return null;
}

/**
 * Parses the header from the first bytes of a file (up to HEADER_PROBE_BYTES).
 * `head.length` shorter than that means the file itself is that short.
 */
export function parseBackupHeader(head: Buffer): BackupHeader | HeaderProblem {
  if (head.length === 0) return { problem: 'damaged', detail: 'the file is empty' };
  // crypt12 starts with cipher version 00 01 and key version 1..3; a protobuf
  // prefix can never start with 00 (a zero length), so the two cannot be confused.
  if (head[0] === 0x00) {
    if (head.length < 3) return { problem: 'unknown', detail: 'too short' };
    const keyVersion = head[2] ?? 0;
    if (head[1] === 0x01 && keyVersion >= 1 && keyVersion <= 3) return parseCrypt12(head);
    return { problem: 'unknown', detail: 'unrecognised first bytes' };
  }
  // crypt14/15: a varint length, then that many bytes of protobuf. Older
  // readers took the first byte as the length and a following 0x01 as a
  // "feature table" flag; for lengths 128..255 the two readings coincide, and
  // a writer that used the flag with a shorter header is handled below.
  const len = readVarint(head, 0);
  if (!len || len.value === 0n || len.value > BigInt(HEADER_PROBE_BYTES)) return { problem: 'unknown', detail: 'unrecognised first bytes' };
  const size = Number(len.value);
  const readings = [len.next];
  if (len.next === 1 && head[1] === 0x01) readings.push(2);
  let cutShort = false;
  for (const start of readings) {
    if (start + size > head.length) {
      cutShort = true;
      continue;
    }
    const parsed = parsePrefix(head.subarray(start, start + size), start + size);
    if (parsed) return parsed;
  }
  // A file that ends inside what would be its header: only call it damaged if it is plausibly ours.
  if (cutShort && head.length < HEADER_PROBE_BYTES && (head[len.next] === 0x08 || head[len.next] === 0x01)) {
    return { problem: 'damaged', detail: 'the file ends inside its header' };
  }
  return { problem: 'unknown', detail: 'the header is not a WhatsApp backup header' };
}

/** crypt12's last four bytes: "--" or digits, then two digits (the end of the phone number). */
export function looksLikeCrypt12Suffix(tail: Buffer): boolean {
  return tail.length === CRYPT12_SUFFIX_LENGTH && /^[-0-9]{2}[0-9]{2}$/.test(tail.toString('latin1'));
}
