/**
 * `chatsafe detect` and the first step of every backup: what is this path
 * and what is in it. Counts come from SQL counts and light scans, never a
 * full import; nothing is written anywhere near the input.
 */
import { basename, dirname, join, relative, sep } from 'node:path';
import { throwIfCancelled } from '../errors.js';
import { formatBytes, formatCount, plural } from './format.js';
import { locateSource, type LocatedSource } from './locate.js';
import { openSourceDb } from './sqlite-source.js';
import { SOURCE_LABELS, type DetectionCounts, type DetectionReport } from './types.js';
import { walkTotals, type CountFiles } from './walk.js';
import { countAndroid } from './whatsapp-android.js';
import { countExportText } from './import-export-text.js';
import { countIos, locateIosBackup } from './whatsapp-ios.js';
import { countTelegram } from './telegram-json.js';

export interface DetectOptions {
  readonly signal?: AbortSignal;
  readonly countFiles?: CountFiles;
  /** Whether to count what only `details` reports (default true); a backup shows the summary alone. */
  readonly details?: boolean;
}

export async function detectSource(path: string, opts: DetectOptions = {}): Promise<DetectionReport> {
  const src = await locateSource(path);
  throwIfCancelled(opts.signal);
  const count = opts.countFiles ?? walkTotals;
  const totals = count(src.path);
  const counts: DetectionCounts = { chats: null, messages: null, mediaFiles: null };
  const details: Record<string, string | number | boolean> = {};
  const problems: string[] = [...(src.kind === 'unknown' ? src.notes : [])];
  const keyFiles: Record<string, string> = {};
  const parent = dirname(src.path);
  const rel = (p: string) => relative(parent, p).split(sep).join('/');
  if (src.mainFile) keyFiles.main = rel(src.mainFile);
  if (src.contactsFile) keyFiles.contacts = rel(src.contactsFile);
  if (totals.truncated) problems.push('More than 2,000,000 files: the totals are lower bounds.');

  try {
    switch (src.kind) {
      case 'whatsapp-android': {
        const db = openSourceDb(src.mainFile!);
        try {
          const c = countAndroid(db.db, opts.details !== false);
          if (c) {
            counts.chats = c.chats;
            counts.messages = c.messages;
            details.schema = c.schema;
            if (c.mediaRefs !== null) details.mediaReferences = c.mediaRefs;
          }
        } finally {
          db.close();
        }
        if (!src.contactsFile) problems.push('No wa.db beside the database: chats will show phone numbers instead of contact names.');
        if (src.isDir) {
          counts.mediaFiles = count(join(src.path, 'Media')).files;
          if (counts.mediaFiles === 0) problems.push('No Media folder: messages will name their media files, but the files are not in the backup.');
        } else problems.push('Only the database file was given: give the WhatsApp folder to include Media and wa.db.');
        break;
      }
      case 'whatsapp-android-crypt': {
        details.format = src.notes[0] ?? 'unknown';
        problems.push('Encrypted: contents are counted after decryption, which needs the 64-digit key or the key file (--wa-key).');
        if (src.isDir) counts.mediaFiles = count(join(src.path, 'Media')).files;
        break;
      }
      case 'whatsapp-ios': {
        Object.assign(counts, countIos(src.mainFile!));
        if (src.isDir) counts.mediaFiles = count(join(src.path, 'Message', 'Media')).files;
        if (!src.contactsFile) problems.push('No ContactsV2.sqlite: names come from the chat database only.');
        break;
      }
      case 'whatsapp-ios-backup': {
        const b = locateIosBackup(src.path);
        details.encrypted = b.encrypted;
        if (b.encrypted) problems.push('This iPhone backup is encrypted; its WhatsApp data cannot be read. Make an unencrypted backup in Finder/iTunes to import the chats (the folder can still be backed up as files).');
        else if (!b.chatStorage) problems.push('This iPhone backup holds no WhatsApp ChatStorage.sqlite.');
        else {
          keyFiles.chatStorage = rel(b.chatStorage);
          if (b.contacts) keyFiles.contacts = rel(b.contacts);
          Object.assign(counts, countIos(b.chatStorage));
          counts.mediaFiles = b.mediaFiles;
        }
        break;
      }
      case 'whatsapp-export-text': {
        const c = countExportText(src);
        counts.chats = 1;
        counts.messages = c.messages;
        counts.mediaFiles = c.attachments;
        details.layout = c.layout;
        details.dateOrder = c.dateOrder;
        if (c.inZip) details.chatText = c.inZip;
        break;
      }
      case 'telegram-json': {
        const c = countTelegram(src.mainFile!);
        counts.chats = c.chats;
        counts.messages = c.messages;
        counts.mediaFiles = c.mediaRefs;
        details.export = c.scope;
        break;
      }
      case 'unknown':
        break;
    }
  } catch (e) {
    problems.push((e as Error).message);
  }
  return {
    kind: src.kind,
    label: SOURCE_LABELS[src.kind],
    summary: summaryLine(src, counts, totals),
    path: src.path,
    counts,
    totalFiles: totals.files,
    totalBytes: totals.bytes,
    keyFiles,
    details,
    problems,
  };
}

function summaryLine(src: LocatedSource, c: DetectionCounts, totals: { files: number; bytes: number }): string {
  const parts: string[] = [];
  if (c.chats !== null) parts.push(plural(c.chats, 'chat'));
  if (c.messages !== null) parts.push(plural(c.messages, 'message'));
  if (c.mediaFiles !== null) parts.push(plural(c.mediaFiles, 'media file'));
  if (src.kind === 'unknown') parts.push(plural(totals.files, 'file'));
  parts.push(formatBytes(totals.bytes));
  const label = src.kind === 'unknown' ? `Unknown (${basename(src.path)})` : SOURCE_LABELS[src.kind];
  return `${label}: ${parts.join(', ')}`;
}

export { formatCount };
