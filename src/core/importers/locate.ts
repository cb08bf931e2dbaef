/**
 * Finding what a path is: which kind of export, and where its database,
 * contacts, media and text files are. Reads headers and names only; the
 * counting happens in detect.ts and the reading in the importers.
 */
import { lstatSync, readdirSync, statSync, type Dirent } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { compareCodeUnits } from '../code-unit-order.js';
import { ChatsafeError } from '../errors.js';
import { sniffWhatsAppBackup } from './whatsapp-crypt/index.js';
import { isSqliteFile, openSourceDb, readHead, tableNames } from './sqlite-source.js';
import type { SourceKind } from './types.js';
import { looksLikeExportText, isExportTextName } from './whatsapp-export-text.js';
import { findChatTextInZip } from './zip-reader.js';

export interface LocatedSource {
  readonly kind: SourceKind;
  /** The path given, absolute. */
  readonly path: string;
  readonly isDir: boolean;
  /** The main file: msgstore.db, the crypt file, ChatStorage.sqlite, the chat text, the zip, result.json; or Manifest.db for an iPhone backup. */
  readonly mainFile: string | null;
  /** wa.db or ContactsV2.sqlite, when found. */
  readonly contactsFile: string | null;
  /** The folder a source's relative media paths start from (the WhatsApp folder, the export folder). */
  readonly mediaDir: string | null;
  /** Why the kind is what it is, or what is odd. */
  readonly notes: string[];
}

/** Apple's file ids inside an iTunes/Finder backup (SHA-1 of domain-relativePath). */
export const IOS_CHATSTORAGE_ID = '7c7fba66680ef796b916b067077cc246adacf01d';
export const IOS_CONTACTS_ID = 'b8548dc30aa1030df0ce18ef08b882cf7ab5212f';

const CRYPT_NAME = /^msgstore(-\d{4}-\d{2}-\d{2}\.\d+)?\.db\.crypt(12|14|15)$/;

/**
 * A regular file itself, not a link: a backup stores a link as a link, so a catalog built through
 * one would hold a file from outside what was backed up.
 */
function isFile(p: string): boolean {
  try {
    return lstatSync(p).isFile();
  } catch {
    return false;
  }
}

function list(dir: string): Dirent[] {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}

/** The first existing file among candidates. */
function firstFile(...candidates: string[]): string | null {
  return candidates.find(isFile) ?? null;
}

/** Newest crypt backup in a folder: the undated one first, else the latest date. */
function findCrypt(dir: string): string | null {
  const names = list(dir)
    .filter((d) => d.isFile() && CRYPT_NAME.test(d.name))
    .map((d) => d.name)
    // Dated names (msgstore-YYYY-MM-DD.N.db.crypt15) sort newest first by their characters alone.
    .sort((a, b) => (a.startsWith('msgstore.db') ? -1 : b.startsWith('msgstore.db') ? 1 : compareCodeUnits(b, a)));
  return names[0] ? join(dir, names[0]) : null;
}

export async function locateSource(input: string): Promise<LocatedSource> {
  const path = resolve(input);
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new ChatsafeError('not-found', `${input}: no such file or folder.`, 'Check the path; for a WhatsApp folder give the folder that holds Databases/ and Media/.');
  }
  const base = { path, isDir: st.isDirectory(), contactsFile: null, mediaDir: null, notes: [] as string[] };
  if (st.isDirectory()) return locateDir(path, base);
  if (!st.isFile()) return { ...base, kind: 'unknown', mainFile: null, notes: ['not a regular file or folder'] };
  return locateFile(path, base);
}

async function locateFile(path: string, base: Omit<LocatedSource, 'kind' | 'mainFile'>): Promise<LocatedSource> {
  const name = basename(path);
  const dir = dirname(path);
  if (isSqliteFile(path)) {
    const flavour = sqliteFlavour(path);
    if (flavour === 'android') return { ...base, kind: 'whatsapp-android', mainFile: path, contactsFile: firstFile(join(dir, 'wa.db')) };
    if (flavour === 'ios') return { ...base, kind: 'whatsapp-ios', mainFile: path, contactsFile: firstFile(join(dir, 'ContactsV2.sqlite')) };
    if (flavour === 'damaged') {
      // A damaged database still goes to its importer when its name says what it is, so the error names the damage.
      if (/^msgstore.*\.db$/i.test(name)) return { ...base, kind: 'whatsapp-android', mainFile: path, contactsFile: firstFile(join(dir, 'wa.db')) };
      if (name === 'ChatStorage.sqlite') return { ...base, kind: 'whatsapp-ios', mainFile: path };
      return { ...base, kind: 'unknown', mainFile: path, notes: ['A SQLite database that cannot be read (damaged or truncated).'] };
    }
    if (flavour === 'manifest') return { ...base, kind: 'unknown', mainFile: path, notes: ["This is an iPhone backup's Manifest.db; give the whole backup folder instead."] };
    return { ...base, kind: 'unknown', mainFile: path, notes: ['A SQLite database that is not a WhatsApp message store.'] };
  }
  if (CRYPT_NAME.test(name) || /\.crypt(12|14|15)$/.test(name)) {
    const sniff = await sniffWhatsAppBackup(path).catch(() => null);
    if (sniff || CRYPT_NAME.test(name)) return { ...base, kind: 'whatsapp-android-crypt', mainFile: path, contactsFile: firstFile(join(dir, 'wa.db')), notes: sniff ? [sniff.format] : ['format not recognised from the header'] };
  }
  const ext = extname(name).toLowerCase();
  if (ext === '.zip') {
    const inner = findChatTextInZip(path);
    if (inner) return { ...base, kind: 'whatsapp-export-text', mainFile: path, notes: [`chat text ${inner}`] };
    return { ...base, kind: 'unknown', mainFile: path, notes: ['A zip archive without a WhatsApp chat text in it.'] };
  }
  if (ext === '.txt' && looksLikeExportText(readHead(path, 64 * 1024).toString('utf8'))) return { ...base, kind: 'whatsapp-export-text', mainFile: path, mediaDir: dir };
  if (ext === '.json' && looksLikeTelegram(path)) return { ...base, kind: 'telegram-json', mainFile: path, mediaDir: dir };
  return { ...base, kind: 'unknown', mainFile: path };
}

async function locateDir(path: string, base: Omit<LocatedSource, 'kind' | 'mainFile'>): Promise<LocatedSource> {
  const manifest = join(path, 'Manifest.db');
  if (isFile(manifest) && (isFile(join(path, 'Manifest.plist')) || isFile(join(path, 'Info.plist')))) {
    return { ...base, kind: 'whatsapp-ios-backup', mainFile: manifest };
  }
  const chatStorage = firstFile(join(path, 'ChatStorage.sqlite'));
  if (chatStorage && isSqliteFile(chatStorage)) return { ...base, kind: 'whatsapp-ios', mainFile: chatStorage, contactsFile: firstFile(join(path, 'ContactsV2.sqlite')), mediaDir: path };
  // A WhatsApp folder (Databases/ + Media/), or the Databases folder itself.
  for (const dbDir of [join(path, 'Databases'), path]) {
    const plain = firstFile(join(dbDir, 'msgstore.db'));
    const waDb = firstFile(join(dbDir, 'wa.db'), join(path, 'wa.db'));
    // A damaged msgstore.db still makes this a WhatsApp folder: the import then names the damage.
    if (plain && isSqliteFile(plain) && ['android', 'damaged'].includes(sqliteFlavour(plain))) return { ...base, kind: 'whatsapp-android', mainFile: plain, contactsFile: waDb, mediaDir: path };
    const crypt = findCrypt(dbDir);
    if (crypt) return { ...base, kind: 'whatsapp-android-crypt', mainFile: crypt, contactsFile: waDb, mediaDir: path };
  }
  const result = join(path, 'result.json');
  if (isFile(result) && looksLikeTelegram(result)) return { ...base, kind: 'telegram-json', mainFile: result, mediaDir: path };
  for (const d of list(path)) {
    if (!d.isFile()) continue;
    const p = join(path, d.name);
    if (isExportTextName(d.name) && looksLikeExportText(readHead(p, 64 * 1024).toString('utf8'))) return { ...base, kind: 'whatsapp-export-text', mainFile: p, mediaDir: path };
  }
  return { ...base, kind: 'unknown', mainFile: null };
}

/** Which kind of SQLite database, from its table names alone. */
export function sqliteFlavour(path: string): 'android' | 'ios' | 'manifest' | 'damaged' | 'other' {
  const src = openForFlavour(path);
  if (!src) return 'damaged';
  try {
    const t = src.tables;
    if ((t.has('message') && t.has('chat')) || (t.has('messages') && (t.has('chat_list') || t.has('jid') || t.has('chat')))) return 'android';
    if (t.has('ZWAMESSAGE') && t.has('ZWACHATSESSION')) return 'ios';
    if (t.has('Files') && t.has('Properties')) return 'manifest';
    return 'other';
  } finally {
    src.close();
  }
}

function openForFlavour(path: string): { tables: Set<string>; close(): void } | null {
  try {
    const s = openSourceDb(path);
    const tables = tableNames(s.db);
    return { tables, close: () => s.close() };
  } catch {
    return null;
  }
}

/** Telegram Desktop's JSON starts with an object holding `messages` (one chat) or `chats`/`personal_information` (account). */
export function looksLikeTelegram(path: string): boolean {
  try {
    const head = readHead(path, 4096).toString('utf8');
    return /^\s*\{/.test(head) && /"(messages|chats|personal_information|about)"\s*:/.test(head) && /"(type|name|about)"\s*:/.test(head);
  } catch {
    return false;
  }
}
