/**
 * A small, bounds-checked reader for the zip files WhatsApp's "Export chat"
 * produces (stored or deflated entries, no encryption, no zip64). Every
 * offset and size read from the file is checked against the file's size
 * before use; names that could escape a folder are refused; an entry that
 * inflates past its declared size or at an implausible ratio (a zip bomb)
 * is refused; CRC-32 is verified.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { basename } from 'node:path';
import { crc32, inflateRawSync } from 'node:zlib';
import { ChatsafeError } from '../errors.js';

export interface ZipEntry {
  readonly name: string;
  readonly method: number;
  readonly compressedSize: number;
  readonly size: number;
  readonly crc: number;
  readonly localHeaderOffset: number;
}

export const ZIP_LIMITS = {
  maxEntries: 100_000,
  maxCentralDirectory: 64 * 1024 * 1024,
  /** Largest single entry we inflate into memory. */
  maxEntrySize: 512 * 1024 * 1024,
  /** Above this size an entry must not inflate more than maxRatio times its compressed size. */
  ratioCheckAbove: 16 * 1024 * 1024,
  maxRatio: 200,
};

function bad(path: string, what: string): ChatsafeError {
  return new ChatsafeError('integrity', `${basename(path)} is not a usable zip file: ${what}.`, 'Export the chat again from WhatsApp, or back the file up as a plain file.');
}

/** A name is safe when it stays inside the folder it is extracted to. */
export function isSafeEntryName(name: string): boolean {
  if (name.length === 0 || name.length > 1024 || name.includes('\0') || name.includes('\\')) return false;
  if (name.startsWith('/') || /^[a-zA-Z]:/.test(name)) return false;
  return !name.split('/').some((seg) => seg === '..');
}

export class ZipReader {
  private readonly fd: number | null;
  private readonly bytes: Buffer | null;
  private readonly fileSize: number;
  readonly entries: ZipEntry[];

  /** Opens a zip file by path, or reads one already in memory (`path` then only names it in errors). */
  constructor(readonly path: string, inMemory?: Buffer) {
    this.bytes = inMemory ?? null;
    this.fd = inMemory ? null : openSync(path, 'r');
    try {
      this.fileSize = inMemory ? inMemory.length : fstatSync(this.fd!).size;
      this.entries = this.readCentralDirectory();
    } catch (e) {
      this.close();
      throw e;
    }
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
  }

  private read(offset: number, length: number): Buffer {
    if (offset < 0 || length < 0 || offset + length > this.fileSize) throw bad(this.path, 'a record points past the end of the file (truncated?)');
    if (this.bytes) return this.bytes.subarray(offset, offset + length);
    const buf = Buffer.alloc(length);
    const n = readSync(this.fd!, buf, 0, length, offset);
    if (n !== length) throw bad(this.path, 'short read');
    return buf;
  }

  private readCentralDirectory(): ZipEntry[] {
    if (this.fileSize < 22) throw bad(this.path, 'too short');
    const tailLen = Math.min(this.fileSize, 22 + 0xffff);
    const tail = this.read(this.fileSize - tailLen, tailLen);
    let eocd = -1;
    for (let i = tail.length - 22; i >= 0; i--) {
      if (tail.readUInt32LE(i) === 0x06054b50) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) throw bad(this.path, 'no end-of-central-directory record');
    const count = tail.readUInt16LE(eocd + 10);
    const cdSize = tail.readUInt32LE(eocd + 12);
    const cdOffset = tail.readUInt32LE(eocd + 16);
    if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) throw new ChatsafeError('unsupported', `${basename(this.path)} is a zip64 archive, which is not supported.`, 'Back it up as a plain file, or unzip it and give the folder.');
    if (count > ZIP_LIMITS.maxEntries) throw bad(this.path, `too many entries (${count})`);
    if (cdSize > ZIP_LIMITS.maxCentralDirectory) throw bad(this.path, 'central directory too large');
    const cd = this.read(cdOffset, cdSize);
    const entries: ZipEntry[] = [];
    let p = 0;
    for (let i = 0; i < count; i++) {
      if (p + 46 > cd.length || cd.readUInt32LE(p) !== 0x02014b50) throw bad(this.path, 'damaged central directory');
      const flags = cd.readUInt16LE(p + 8);
      const method = cd.readUInt16LE(p + 10);
      const crc = cd.readUInt32LE(p + 16);
      const compressedSize = cd.readUInt32LE(p + 20);
      const size = cd.readUInt32LE(p + 24);
      const nameLen = cd.readUInt16LE(p + 28);
      const extraLen = cd.readUInt16LE(p + 30);
      const commentLen = cd.readUInt16LE(p + 32);
      const localHeaderOffset = cd.readUInt32LE(p + 42);
      if (p + 46 + nameLen > cd.length) throw bad(this.path, 'damaged central directory');
      const name = cd.subarray(p + 46, p + 46 + nameLen).toString(flags & 0x800 ? 'utf8' : 'latin1');
      p += 46 + nameLen + extraLen + commentLen;
      if (!isSafeEntryName(name)) throw new ChatsafeError('integrity', `${basename(this.path)} contains an entry whose name leaves its folder; the archive was refused.`, 'This is not a file WhatsApp made; do not extract it.');
      if (name.endsWith('/')) continue;
      if (flags & 0x1) throw new ChatsafeError('unsupported', `${basename(this.path)} has encrypted entries, which are not supported.`, 'Unzip it with its password and give the folder.');
      entries.push({ name, method, compressedSize, size, crc, localHeaderOffset });
    }
    return entries;
  }

  find(name: string): ZipEntry | undefined {
    return this.entries.find((e) => e.name === name);
  }

  /** The entry's bytes, verified against its declared size and CRC-32. */
  extract(entry: ZipEntry, maxSize = ZIP_LIMITS.maxEntrySize): Buffer {
    if (entry.size > maxSize) throw bad(this.path, `entry ${entry.name} is larger than ${maxSize} bytes`);
    if (entry.size > ZIP_LIMITS.ratioCheckAbove && entry.size > entry.compressedSize * ZIP_LIMITS.maxRatio) throw bad(this.path, `entry ${entry.name} inflates ${Math.round(entry.size / Math.max(1, entry.compressedSize))} times (a zip bomb?)`);
    const lh = this.read(entry.localHeaderOffset, 30);
    if (lh.readUInt32LE(0) !== 0x04034b50) throw bad(this.path, `damaged local header for ${entry.name}`);
    const dataStart = entry.localHeaderOffset + 30 + lh.readUInt16LE(26) + lh.readUInt16LE(28);
    const raw = this.read(dataStart, entry.compressedSize);
    let data: Buffer;
    if (entry.method === 0) {
      if (entry.compressedSize !== entry.size) throw bad(this.path, `stored entry ${entry.name} has inconsistent sizes`);
      data = raw;
    } else if (entry.method === 8) {
      try {
        // maxOutputLength stops a lying size field from inflating without bound.
        data = inflateRawSync(raw, { maxOutputLength: Math.max(1, entry.size) });
      } catch (e) {
        throw bad(this.path, `entry ${entry.name} does not inflate (${(e as { code?: string }).code ?? 'damaged'})`);
      }
    } else throw new ChatsafeError('unsupported', `${basename(this.path)}: entry ${entry.name} uses compression method ${entry.method}, which is not supported.`, 'Unzip it with another tool and give the folder.');
    if (data.length !== entry.size) throw bad(this.path, `entry ${entry.name} has the wrong size`);
    if ((crc32(data) >>> 0) !== entry.crc) throw bad(this.path, `entry ${entry.name} fails its CRC check`);
    return data;
  }
}

/** The chat text inside a WhatsApp export zip (`_chat.txt` or `WhatsApp Chat with NAME.txt`), or null. */
export function findChatTextInZip(path: string): string | null {
  try {
    const z = new ZipReader(path);
    try {
      return pickChatEntry(z)?.name ?? null;
    } finally {
      z.close();
    }
  } catch {
    return null;
  }
}

export function pickChatEntry(z: ZipReader): ZipEntry | null {
  const txt = z.entries.filter((e) => !e.name.includes('/') && e.name.toLowerCase().endsWith('.txt'));
  return txt.find((e) => e.name === '_chat.txt') ?? txt.find((e) => /^WhatsApp/i.test(e.name)) ?? (txt.length === 1 ? txt[0]! : null);
}
