/**
 * Streaming decryption of WhatsApp .crypt12/.crypt14/.crypt15 backups into
 * the plain database (or, for multi-file backups, the ZIP archive).
 *
 * Memory stays flat whatever the file size: the ciphertext is read in chunks,
 * decrypted with AES-256-GCM, inflated and written to a temporary file beside
 * the output. The output name appears only after the GCM tag (and the MD5
 * trailer where present) has been verified; on any failure the temporary file
 * is removed.
 *
 * Wrong key versus damaged file: the first decrypted bytes must look like a
 * zlib stream of a SQLite database (or a ZIP). If they do not, the rest of the
 * file is hashed and the MD5 trailer, which does not depend on the key, says
 * whether the file is intact (so the key is wrong) or damaged.
 */
import { createDecipheriv, createHash, randomBytes, timingSafeEqual, type DecipherGCM, type Hash } from 'node:crypto';
import { constants as fsc } from 'node:fs';
import { open, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createInflate } from 'node:zlib';
import { once } from 'node:events';
import { assertReplaceableFile } from '../../output-path.js';
import { CancelledError, ChatsafeError, IntegrityError, UsageError, WrongKeyError, throwIfCancelled } from '../../errors.js';
import {
  CRYPT12_SUFFIX_LENGTH,
  HEADER_PROBE_BYTES,
  MD5_LENGTH,
  TAG_LENGTH,
  isHeaderProblem,
  looksLikeCrypt12Suffix,
  parseBackupHeader,
  type BackupHeader,
} from './header.js';
import { crypt15BackupKey, keyMaterial, type KeyMaterial, type WhatsAppBackupFormat, type WhatsAppKey } from './key.js';
import { PROBE_BYTES, probePlaintext, type PlaintextKind } from './plaintext-probe.js';
import { FileShrankError, TailHoldingReader } from './tail-holding-reader.js';
import { findSingleDigitTypo } from './typo.js';

export interface DecryptOptions {
  signal?: AbortSignal;
  onProgress?: (p: { bytesDone: number; bytesTotal: number }) => void;
}

export interface DecryptResult {
  format: WhatsAppBackupFormat;
  bytesIn: number;
  bytesOut: number;
}

/** Read size: large enough for throughput, small enough to keep memory flat. */
export const DEFAULT_CHUNK_SIZE = 1024 * 1024;

const DAMAGED_HINT = 'The backup file is damaged or incomplete. Copy it from the phone (or the cloud) again and retry; a partly copied file is the usual cause.';
const CRYPT15_KEY_HINT = 'Use the 64-digit key you saved when you turned on end-to-end encrypted backup in WhatsApp, or the phone\'s `encrypted_backup.key` file.';
const LEGACY_KEY_HINT = 'Use the `key` file from the same phone (/data/data/com.whatsapp/files/key); WhatsApp makes a new one when it is reinstalled, so it must be the key that was current when this backup was written.';

/** Streams: decrypt + inflate inPath into outPath, renamed into place only once verified. */
export async function decryptWhatsAppBackup(inPath: string, key: WhatsAppKey, outPath: string, opts?: DecryptOptions): Promise<DecryptResult> {
  return decryptBackupFile(inPath, key, outPath, opts ?? {}, DEFAULT_CHUNK_SIZE);
}

/** decryptWhatsAppBackup with a chosen read size (tests use tiny ones to cross every chunk boundary). */
export async function decryptBackupFile(inPath: string, key: WhatsAppKey, outPath: string, opts: DecryptOptions, chunkSize: number): Promise<DecryptResult> {
  const material = keyMaterial(key);
  throwIfCancelled(opts.signal);
  if (resolve(inPath) === resolve(outPath)) {
    throw new UsageError(`The output ${outPath} is the backup itself.`, 'Choose another output file name, for example msgstore.db.');
  }
  const fh = await openBackup(inPath);
  const tmpPath = join(dirname(outPath), `.${basename(outPath)}.${randomBytes(6).toString('hex')}.partial`);
  let tmpCreated = false;
  try {
    const size = (await fh.stat()).size;
    await refuseSameFile(fh, inPath, outPath);
    await assertReplaceableFile(outPath);
    const head = await readHead(fh, size);
    const header = headerOrThrow(inPath, head);
    const layout = trailerLayout(inPath, header, size, await readLast(fh, size, CRYPT12_SUFFIX_LENGTH));
    const { aesKey, saltMatches } = cipherKeyFor(inPath, header, material);

    const session = new DecryptSession(inPath, fh, header, aesKey, layout, size, chunkSize, opts);
    session.md5.update(head.subarray(0, header.dataOffset));
    if (!saltMatches) throw await session.explainSaltMismatch();
    const first = await session.readFirstPlaintext();
    if (first.kind === 'noise') throw await session.explainNoise(material);

    // Opened here rather than by the stream: a stream opens its file in the background, so a
    // failure early in the pipeline could remove the temporary file before it was even created.
    const outFile = await open(tmpPath, 'wx', 0o600);
    tmpCreated = true;
    const out = outFile.createWriteStream();
    const stages: NodeJS.ReadWriteStream[] = first.kind === 'zip' ? [] : [createInflate()];
    // Byte mode keeps at most about one chunk buffered between the stages.
    const source = Readable.from(session.plaintext(first.chunks, first.kind), { objectMode: false });
    try {
      await pipeline([source, ...stages, out], { signal: opts.signal });
    } finally {
      // Closed before it is renamed or removed (Windows refuses either on an open file).
      if (!out.closed) await once(out, 'close').catch(() => undefined);
    }
    const bytesOut = out.bytesWritten;
    await syncFile(tmpPath);
    await assertReplaceableFile(outPath);
    await rename(tmpPath, outPath);
    tmpCreated = false;
    return { format: header.format, bytesIn: size, bytesOut };
  } catch (e) {
    throw mapFailure(e, inPath, outPath, opts.signal);
  } finally {
    await fh.close().catch(() => undefined);
    if (tmpCreated) await unlink(tmpPath).catch(() => undefined);
  }
}

async function openBackup(inPath: string): Promise<FileHandle> {
  let fh: FileHandle;
  try {
    // Not blocking: a FIFO would wait for a writer before the check below could refuse it.
    fh = await open(inPath, fsc.O_RDONLY | fsc.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ChatsafeError('not-found', `No backup file at ${inPath}.`, 'Check the path; WhatsApp keeps its backups in WhatsApp/Databases on the phone.');
    throw new ChatsafeError('io', `Could not open ${inPath}: ${code ?? 'error'}.`, 'Check that the file exists and is readable.', { cause: e });
  }
  const st = await fh.stat();
  if (!st.isFile()) {
    await fh.close();
    throw new UsageError(`${inPath} is not a file.`, 'Give the path of a .crypt12, .crypt14 or .crypt15 file.');
  }
  return fh;
}

/** The output must not be the input under another name (a hard link or a symlink). */
async function refuseSameFile(fh: FileHandle, inPath: string, outPath: string): Promise<void> {
  const outStat = await stat(outPath).catch(() => null);
  if (!outStat) return;
  const inStat = await fh.stat();
  if (outStat.dev === inStat.dev && outStat.ino === inStat.ino) {
    throw new UsageError(`The output ${outPath} is the backup ${inPath} itself.`, 'Choose another output file name.');
  }
}

async function readHead(fh: FileHandle, size: number): Promise<Buffer> {
  const buf = Buffer.alloc(Math.min(size, HEADER_PROBE_BYTES));
  const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
  return buf.subarray(0, bytesRead);
}

async function readLast(fh: FileHandle, size: number, n: number): Promise<Buffer> {
  if (size < n) return Buffer.alloc(0);
  const buf = Buffer.alloc(n);
  await fh.read(buf, 0, n, size - n);
  return buf;
}

const CRYPT_NAME = /\.crypt1[245]$/i;

function headerOrThrow(inPath: string, head: Buffer): BackupHeader {
  const h = parseBackupHeader(head);
  if (!isHeaderProblem(h)) return h;
  if (head.length === 0) throw new IntegrityError(inPath, 'the file is empty (0 bytes).', DAMAGED_HINT);
  if (h.problem === 'damaged' || CRYPT_NAME.test(inPath)) {
    throw new IntegrityError(inPath, `the backup header is unreadable: ${h.detail}.`, DAMAGED_HINT);
  }
  throw new ChatsafeError('unsupported', `${inPath} is not a WhatsApp encrypted backup (.crypt12, .crypt14 or .crypt15).`, 'Give the msgstore.db.crypt15 (or .crypt14/.crypt12) file from the phone\'s WhatsApp/Databases folder.');
}

/** How the end of the file is laid out: bytes held back while streaming, and whether an MD5 must be there. */
interface TrailerLayout {
  readonly hold: number;
  readonly md5Required: boolean;
}

function trailerLayout(inPath: string, header: BackupHeader, size: number, last4: Buffer): TrailerLayout {
  const dataLength = size - header.dataOffset;
  const layout: TrailerLayout =
    header.format === 'crypt12'
      ? { hold: TAG_LENGTH + MD5_LENGTH + CRYPT12_SUFFIX_LENGTH, md5Required: true }
      : { hold: TAG_LENGTH + MD5_LENGTH, md5Required: false };
  // At least one byte of ciphertext besides the trailer.
  if (dataLength <= layout.hold) {
    throw new IntegrityError(inPath, `the file is truncated: ${size} bytes is too short for a ${header.format} backup.`, DAMAGED_HINT);
  }
  if (header.format === 'crypt12' && !looksLikeCrypt12Suffix(last4)) {
    throw new IntegrityError(inPath, 'the file is truncated or damaged at its end (the crypt12 trailer is missing).', DAMAGED_HINT);
  }
  return layout;
}

/**
 * Checks that the key is of the kind the format needs, and returns the AES
 * key. For crypt12/14 also compares the header's copy of the key generation's
 * salt with the key file's: a key check that costs nothing (a mismatch is
 * confirmed against the MD5 before it is called a wrong key).
 */
function cipherKeyFor(inPath: string, header: BackupHeader, m: KeyMaterial): { aesKey: Buffer; saltMatches: boolean } {
  if (header.format === 'crypt15') {
    if (m.kind !== 'crypt15') {
      throw new WrongKeyError(`${inPath} is an end-to-end encrypted (crypt15) backup; the \`key\` file of crypt12/crypt14 backups cannot open it.`, CRYPT15_KEY_HINT);
    }
    return { aesKey: crypt15BackupKey(m.root), saltMatches: true };
  }
  if (m.kind !== 'crypt12-14') {
    throw new WrongKeyError(`${inPath} is a ${header.format} backup; it is opened by the phone's \`key\` file, not by a 64-digit key.`, LEGACY_KEY_HINT);
  }
  const salt = header.serverSalt;
  const saltMatches = !salt || (salt.length === m.serverSalt.length && timingSafeEqual(salt, m.serverSalt));
  return { aesKey: m.aesKey, saltMatches };
}

/** The state of one decryption: reader, decipher, running MD5. */
class DecryptSession {
  readonly md5: Hash = createHash('md5');
  private readonly decipher: DecipherGCM;
  private readonly reader: TailHoldingReader;
  /** The first ciphertext bytes, kept for the typo search. */
  private firstCiphertext = Buffer.alloc(0);
  private md5Matched = false;

  constructor(
    private readonly inPath: string,
    fh: FileHandle,
    private readonly header: BackupHeader,
    aesKey: Buffer,
    private readonly layout: TrailerLayout,
    private readonly size: number,
    chunkSize: number,
    private readonly opts: DecryptOptions,
  ) {
    this.decipher = createDecipheriv('aes-256-gcm', aesKey, header.iv);
    this.reader = new TailHoldingReader(fh, header.dataOffset, size, layout.hold, chunkSize);
  }

  /** Next ciphertext chunk (hashed), with progress and cancellation between chunks. */
  private async nextCiphertext(): Promise<Buffer | null> {
    throwIfCancelled(this.opts.signal);
    const c = await this.reader.next();
    if (c) {
      this.md5.update(c);
      this.opts.onProgress?.({ bytesDone: this.reader.position, bytesTotal: this.size });
    }
    return c;
  }

  /** Decrypts until PROBE_BYTES of plaintext (or the whole file) are in hand, and classifies them. */
  async readFirstPlaintext(): Promise<{ chunks: Buffer[]; kind: PlaintextKind }> {
    const chunks: Buffer[] = [];
    let have = 0;
    while (have < PROBE_BYTES) {
      const c = await this.nextCiphertext();
      if (!c) break;
      if (this.firstCiphertext.length < PROBE_BYTES) {
        this.firstCiphertext = Buffer.concat([this.firstCiphertext, c.subarray(0, PROBE_BYTES - this.firstCiphertext.length)]);
      }
      const p = this.decipher.update(c);
      chunks.push(p);
      have += p.length;
    }
    return { chunks, kind: probePlaintext(Buffer.concat(chunks)) };
  }

  /** The whole plaintext: the chunks already decrypted, the rest, then the verified end. */
  async *plaintext(firstChunks: Buffer[], kind: PlaintextKind): AsyncGenerator<Buffer> {
    for (const c of firstChunks) yield c;
    for (let c = await this.nextCiphertext(); c; c = await this.nextCiphertext()) yield this.decipher.update(c);
    const last = this.finish(kind);
    if (last.length > 0) yield last;
  }

  /**
   * Whether the held-back tail ends with a correct MD5 of everything before
   * it. Feeds the tail's non-MD5 part into the running hash.
   */
  private checkMd5(tail: Buffer): boolean {
    const tagEnd = TAG_LENGTH;
    const probe = this.md5.copy().update(tail.subarray(0, tagEnd)).digest();
    this.md5Matched = timingSafeEqual(probe, tail.subarray(tagEnd, tagEnd + MD5_LENGTH));
    return this.md5Matched;
  }

  /** Verifies the trailer and the GCM tag; returns the last plaintext bytes. */
  private finish(kind: PlaintextKind): Buffer {
    const tail = this.reader.tail();
    let tag: Buffer;
    let lastPlain = Buffer.alloc(0);
    if (this.checkMd5(tail)) {
      tag = tail.subarray(0, TAG_LENGTH);
    } else if (this.layout.md5Required) {
      throw new IntegrityError(this.inPath, 'its MD5 checksum does not match: the file is damaged or truncated.', DAMAGED_HINT);
    } else {
      // No valid MD5: either a multi-file backup whose trailer is the tag alone,
      // or a damaged file. The GCM tag decides.
      lastPlain = this.decipher.update(tail.subarray(0, MD5_LENGTH));
      tag = tail.subarray(MD5_LENGTH);
    }
    this.decipher.setAuthTag(tag);
    try {
      return Buffer.concat([lastPlain, this.decipher.final()]);
    } catch {
      if (this.md5Matched && kind === 'zlib-other') {
        // Intact file, unrecognised start: the probe let a wrong key through.
        throw new WrongKeyError(`The key does not open ${this.inPath} (the file itself is intact).`, this.keyHint());
      }
      const why = this.md5Matched ? 'its authentication tag does not match although its checksum does: the file was modified.' : 'its authentication tag does not match: the file is damaged or truncated.';
      throw new IntegrityError(this.inPath, why, DAMAGED_HINT);
    }
  }

  private keyHint(): string {
    return this.header.format === 'crypt15' ? CRYPT15_KEY_HINT : LEGACY_KEY_HINT;
  }

  /** Hashes the whole file; true when it ends with a correct MD5 of itself. */
  private async fileIsIntact(): Promise<boolean> {
    while (await this.nextCiphertext());
    return this.checkMd5(this.reader.tail());
  }

  /** The header names another key generation than the key file: wrong key, unless the header itself is damaged. */
  async explainSaltMismatch(): Promise<ChatsafeError> {
    if (!(await this.fileIsIntact())) {
      return new IntegrityError(this.inPath, 'its header does not match the key file and its MD5 checksum does not match: the file is damaged or truncated (check the key too).', DAMAGED_HINT);
    }
    return new WrongKeyError(`The key file does not belong to ${this.inPath}: it is from another WhatsApp installation or key generation.`, LEGACY_KEY_HINT);
  }

  /**
   * The first bytes decrypted to noise: wrong key, or a file damaged near its
   * start. Hashes the rest to find out which (the MD5 does not depend on the key).
   */
  async explainNoise(m: KeyMaterial): Promise<ChatsafeError> {
    if (!(await this.fileIsIntact())) {
      return new IntegrityError(this.inPath, 'it does not decrypt and its MD5 checksum does not match: the file is damaged or truncated (check the key too).', DAMAGED_HINT);
    }
    if (m.kind === 'crypt15' && m.typed) {
      const suggestion = findSingleDigitTypo(m.root, this.header.iv, this.firstCiphertext);
      if (suggestion) {
        return new WrongKeyError(
          `The 64-digit key does not open ${this.inPath}; digit ${suggestion.digit} of group ${suggestion.group} looks mistyped.`,
          `In group ${suggestion.group}, type "${suggestion.suggested}" instead of "${suggestion.typed}" at position ${suggestion.digit}.`,
          { suggestion },
        );
      }
    }
    return new WrongKeyError(`The key does not open ${this.inPath} (the file itself is intact).`, this.keyHint());
  }
}

async function syncFile(path: string): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    await fh.datasync();
  } finally {
    await fh.close();
  }
}

/** Turns whatever went wrong into a ChatsafeError that names the file. */
function mapFailure(e: unknown, inPath: string, outPath: string, signal: AbortSignal | undefined): unknown {
  if (e instanceof ChatsafeError) return e;
  if (signal?.aborted || (e as Error)?.name === 'AbortError') return new CancelledError(`Decryption of ${inPath} cancelled; nothing was written to ${outPath}.`);
  if (e instanceof FileShrankError) return new ChatsafeError('io', `${inPath} got shorter while it was being read.`, 'Wait until the copy of the backup has finished, then retry.');
  const code = (e as NodeJS.ErrnoException)?.code;
  if (typeof code === 'string' && code.startsWith('Z_')) {
    // Inflate failed before the tag could be checked: the ciphertext was altered.
    return new IntegrityError(inPath, 'its content does not decompress: the file is damaged or truncated.', DAMAGED_HINT);
  }
  if (code === 'EEXIST' || code === 'ENOSPC' || code === 'EACCES' || code === 'EROFS' || code === 'ENOENT' || code === 'EDQUOT') {
    return new ChatsafeError('io', `Could not write ${outPath}: ${code}.`, 'Check that the output folder exists, is writable and has free space.', { cause: e });
  }
  if (typeof code === 'string') return new ChatsafeError('io', `Reading ${inPath} or writing ${outPath} failed: ${code}.`, 'Check the disk and retry.', { cause: e });
  return e;
}
