/**
 * WhatsApp for iPhone: `ChatStorage.sqlite` (a Core Data store: ZWACHATSESSION,
 * ZWAMESSAGE, ZWAMEDIAITEM, ZWAGROUPMEMBER), names from `ContactsV2.sqlite`,
 * either from a copy of WhatsApp's shared folder or from an unencrypted
 * iTunes/Finder backup, where every file is stored under the SHA-1 of
 * "domain-relativePath" and listed in Manifest.db.
 */
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { ChatKind, MessageKind } from '../catalog/types.js';
import { cleanName, cleanText, toBool, toCount, toNumber, validMillis } from '../catalog/validate.js';
import type { CatalogWriter } from '../catalog/writer.js';
import { IOS_CHATSTORAGE_ID, IOS_CONTACTS_ID } from './locate.js';
import { MediaLinks, resolveInside, type MediaResolver } from './media.js';
import { kindFromCode, type ReportCollector } from './report.js';
import { columnNames, forEachRow, isSqliteFile, openSourceDb, safeCount, tableNames } from './sqlite-source.js';
import type { DetectionCounts, ImportOptions } from './types.js';
import { numberFromJid } from './whatsapp-android-names.js';

/** Seconds between the Unix epoch and Apple's (2001-01-01 UTC). */
export const APPLE_EPOCH_OFFSET_S = 978_307_200;
export const IOS_DOMAIN = 'AppDomainGroup-group.net.whatsapp.WhatsApp.shared';

const TYPE_KIND: Record<number, MessageKind> = {
  0: 'text',
  1: 'image',
  2: 'video',
  3: 'voice',
  4: 'contact',
  5: 'location',
  6: 'system',
  7: 'text',
  8: 'document',
  10: 'system',
  11: 'gif',
  14: 'deleted',
  15: 'sticker',
  38: 'image',
  39: 'video',
  46: 'poll',
};

export function countIos(path: string): Pick<DetectionCounts, 'chats' | 'messages'> {
  const src = openSourceDb(path);
  try {
    return { chats: safeCount(src.db, 'SELECT count(*) FROM ZWACHATSESSION'), messages: safeCount(src.db, 'SELECT count(*) FROM ZWAMESSAGE') };
  } finally {
    src.close();
  }
}

export interface IosBackup {
  readonly encrypted: boolean;
  readonly chatStorage: string | null;
  readonly contacts: string | null;
  /** WhatsApp media files the Manifest lists. */
  readonly mediaFiles: number | null;
}

/** The file an iTunes/Finder backup stores for a domain and relative path. */
export function backupFileId(domain: string, relativePath: string): string {
  return createHash('sha1').update(`${domain}-${relativePath}`).digest('hex');
}

/**
 * A file of the backup, by its id: a regular file itself, never a link (a link to a file elsewhere
 * was read, and its size and digest went into the catalog).
 */
function backupFile(dir: string, fileId: string): string | null {
  for (const p of [join(dir, fileId.slice(0, 2), fileId), join(dir, fileId)]) if (isRegularFile(p)) return p;
  return null;
}

function isRegularFile(path: string): boolean {
  try {
    return lstatSync(path, { throwIfNoEntry: false })?.isFile() ?? false;
  } catch {
    return false; // a file where a folder of the path should be
  }
}

export function locateIosBackup(dir: string): IosBackup {
  const manifestPath = join(dir, 'Manifest.db');
  let encrypted = false;
  const plist = join(dir, 'Manifest.plist');
  if (existsSync(plist)) {
    // XML plists say <key>IsEncrypted</key><true/>; binary plists hold the key name verbatim too.
    const head = readFileSync(plist).subarray(0, 1 << 20).toString('latin1');
    encrypted = /IsEncrypted<\/key>\s*<true\s*\/>/.test(head) || (head.startsWith('bplist') && head.includes('IsEncrypted') && !isSqliteFile(manifestPath));
  }
  if (!isSqliteFile(manifestPath)) return { encrypted: true, chatStorage: null, contacts: null, mediaFiles: null };
  if (encrypted) return { encrypted, chatStorage: null, contacts: null, mediaFiles: null };
  const m = openSourceDb(manifestPath);
  try {
    const listed = (id: string) => (safeCount(m.db, 'SELECT count(*) FROM Files WHERE fileID = ?', id) ?? 0) > 0;
    const chatStorage = listed(IOS_CHATSTORAGE_ID) ? backupFile(dir, IOS_CHATSTORAGE_ID) : null;
    const contacts = listed(IOS_CONTACTS_ID) ? backupFile(dir, IOS_CONTACTS_ID) : null;
    const mediaFiles = safeCount(m.db, "SELECT count(*) FROM Files WHERE domain = ? AND relativePath LIKE 'Message/Media/%' AND flags = 1", IOS_DOMAIN);
    return { encrypted, chatStorage, contacts, mediaFiles };
  } finally {
    m.close();
  }
}

/** Media resolver for an iPhone backup: "Media/…" in ChatStorage -> the hashed file in the backup folder. */
export function backupMediaResolver(dir: string): MediaResolver {
  const prefix = basename(dir);
  return (rel) => {
    const clean = rel.replace(/^\/+/, '');
    if (clean.includes('..') || clean.includes('\0')) return null;
    const id = backupFileId(IOS_DOMAIN, clean.startsWith('Message/') ? clean : `Message/${clean}`);
    const p = backupFile(dir, id);
    if (!p) return null;
    return { abs: p, snapshotPath: `${prefix}/${id.slice(0, 2)}/${id}`, size: statSync(p).size };
  };
}

/** Media resolver for a copy of WhatsApp's shared folder, where "Media/…" lives under "Message/". */
export function folderMediaResolver(dir: string): MediaResolver {
  const root = { dir, snapshotPrefix: basename(dir) };
  return (rel) => resolveInside(root, rel.startsWith('Message/') ? rel : `Message/${rel}`) ?? resolveInside(root, rel);
}

function loadContacts(path: string | null, report: ReportCollector): Map<string, string> {
  const names = new Map<string, string>();
  if (!path) return names;
  try {
    const src = openSourceDb(path);
    try {
      if (!tableNames(src.db).has('ZWAADDRESSBOOKCONTACT')) return names;
      const cols = columnNames(src.db, 'ZWAADDRESSBOOKCONTACT');
      const jidCol = cols.has('ZWHATSAPPID') ? 'ZWHATSAPPID' : null;
      if (!jidCol) return names;
      const nameCols = ['ZFULLNAME', 'ZGIVENNAME', 'ZHIGHLIGHTEDNAME'].filter((c) => cols.has(c));
      for (const r of src.db.prepare(`SELECT ${jidCol} AS jid, ${nameCols.join(', ') || 'NULL AS ZFULLNAME'} FROM ZWAADDRESSBOOKCONTACT`).iterate() as Iterable<Record<string, unknown>>) {
        if (typeof r.jid !== 'string') continue;
        const name = cleanName(r.ZFULLNAME) ?? cleanName(r.ZGIVENNAME) ?? cleanName(r.ZHIGHLIGHTEDNAME);
        const jid = r.jid.includes('@') ? r.jid : `${r.jid}@s.whatsapp.net`;
        if (name) names.set(jid, name);
      }
    } finally {
      src.close();
    }
  } catch (e) {
    report.warn(`Contact names were not read: ${(e as Error).message}`);
  }
  return names;
}

const SESSION_KIND: Record<number, ChatKind> = { 0: 'direct', 1: 'group', 2: 'broadcast', 3: 'status', 4: 'status' };

/**
 * The quoted message's stanza id in ZWAMEDIAITEM.ZMETADATA: a protobuf whose
 * field 5 (tag 0x2a, length-delimited) holds it.
 */
export function quotedStanzaId(meta: unknown): string | null {
  if (!Buffer.isBuffer(meta) || meta.length < 3 || meta[0] !== 0x2a) return null;
  const len = meta[1]!;
  if (len === 0 || len > 64 || 2 + len > meta.length) return null;
  const id = meta.subarray(2, 2 + len).toString('latin1');
  return /^[A-Za-z0-9._-]+$/.test(id) ? id : null;
}

export async function importIos(chatStoragePath: string, contactsPath: string | null, resolver: MediaResolver | null, writer: CatalogWriter, report: ReportCollector, opts: ImportOptions): Promise<void> {
  const src = openSourceDb(chatStoragePath);
  try {
    const db = src.db;
    const tables = tableNames(db);
    for (const t of ['ZWACHATSESSION', 'ZWAMESSAGE']) if (!tables.has(t)) throw new Error(`table ${t} is missing`);
    writer.setMeta('source_schema', 'whatsapp-ios-coredata');
    const contacts = loadContacts(contactsPath, report);
    const nameFor = (jid: string | null): string | null => (jid ? (contacts.get(jid) ?? numberFromJid(jid)) : null);

    const media = new MediaLinks(resolver, writer);
    const chatIds = new Map<number, { id: number; partner: string | null }>();
    const sCols = columnNames(db, 'ZWACHATSESSION');
    const col = (cols: Set<string>, c: string, alias = c) => (cols.has(c) ? `${c} AS ${alias}` : `NULL AS ${alias}`);
    for (const s of db.prepare(`SELECT Z_PK, ${col(sCols, 'ZCONTACTJID', 'jid')}, ${col(sCols, 'ZPARTNERNAME', 'name')}, ${col(sCols, 'ZSESSIONTYPE', 'type')} FROM ZWACHATSESSION ORDER BY Z_PK`).all() as Record<string, unknown>[]) {
      const jid = typeof s.jid === 'string' ? s.jid : null;
      const type = toCount(s.type);
      let kind: ChatKind = type !== null ? (SESSION_KIND[type] ?? 'unknown') : 'unknown';
      if (kind === 'unknown') report.unknown('ZWACHATSESSION.ZSESSIONTYPE', s.type, String(s.Z_PK));
      if (jid === 'status@broadcast') kind = 'status';
      const partner = kind === 'direct' ? (contacts.get(jid ?? '') ?? cleanName(s.name) ?? nameFor(jid)) : null;
      const id = writer.addChat({ kind, name: kind === 'status' ? 'Status updates' : kind === 'direct' ? partner : (cleanName(s.name) ?? jid), address: jid });
      chatIds.set(Number(s.Z_PK), { id, partner });
      report.counts.chats += 1;
      if (kind === 'direct' && partner) writer.addParticipant(id, { name: partner, address: jid });
    }

    const members = new Map<number, string>();
    if (tables.has('ZWAGROUPMEMBER')) {
      const gCols = columnNames(db, 'ZWAGROUPMEMBER');
      for (const g of db.prepare(`SELECT Z_PK, ${col(gCols, 'ZCHATSESSION', 'chat')}, ${col(gCols, 'ZMEMBERJID', 'jid')}, ${col(gCols, 'ZCONTACTNAME', 'cname')}, ${col(gCols, 'ZFIRSTNAME', 'fname')}, ${col(gCols, 'ZISADMIN', 'admin')} FROM ZWAGROUPMEMBER`).all() as Record<string, unknown>[]) {
        const jid = typeof g.jid === 'string' ? g.jid : null;
        const name = (jid && contacts.get(jid)) ?? cleanName(g.cname) ?? cleanName(g.fname) ?? nameFor(jid) ?? 'Unknown contact';
        members.set(Number(g.Z_PK), name);
        const chat = chatIds.get(Number(g.chat));
        if (chat) writer.addParticipant(chat.id, { name, address: jid, admin: toBool(g.admin) });
      }
    }

    const mCols = columnNames(db, 'ZWAMESSAGE');
    const hasMedia = tables.has('ZWAMEDIAITEM');
    const miCols = hasMedia ? columnNames(db, 'ZWAMEDIAITEM') : new Set<string>();
    const mi = (c: string, alias: string) => (miCols.has(c) ? `mi.${c} AS ${alias}` : `NULL AS ${alias}`);
    const sql = `SELECT m.Z_PK AS id, m.ZCHATSESSION AS chat, ${mCols.has('ZISFROMME') ? 'm.ZISFROMME' : 'NULL'} AS from_me, ${mCols.has('ZFROMJID') ? 'm.ZFROMJID' : 'NULL'} AS from_jid,
      ${mCols.has('ZTEXT') ? 'm.ZTEXT' : 'NULL'} AS text, ${mCols.has('ZMESSAGEDATE') ? 'm.ZMESSAGEDATE' : 'NULL'} AS date, ${mCols.has('ZMESSAGETYPE') ? 'm.ZMESSAGETYPE' : 'NULL'} AS type,
      ${mCols.has('ZGROUPMEMBER') ? 'm.ZGROUPMEMBER' : 'NULL'} AS member, ${mCols.has('ZSTANZAID') ? 'm.ZSTANZAID' : 'NULL'} AS stanza, ${mCols.has('ZPUSHNAME') ? 'm.ZPUSHNAME' : 'NULL'} AS push,
      ${hasMedia ? `mi.Z_PK AS media, ${mi('ZMEDIALOCALPATH', 'path')}, ${mi('ZFILESIZE', 'size')}, ${mi('ZVCARDSTRING', 'vcard')}, ${mi('ZLATITUDE', 'lat')}, ${mi('ZLONGITUDE', 'lon')}, ${mi('ZTITLE', 'title')}, ${mi('ZMETADATA', 'meta')}` : 'NULL AS media'}
      FROM ZWAMESSAGE m ${hasMedia ? (mCols.has('ZMEDIAITEM') ? 'LEFT JOIN ZWAMEDIAITEM mi ON mi.Z_PK = m.ZMEDIAITEM' : 'LEFT JOIN ZWAMEDIAITEM mi ON mi.ZMESSAGE = m.Z_PK') : ''} ORDER BY m.Z_PK`;
    await forEachRow(db, sql, (r) => {
      const id = toCount(r.id);
      const chat = chatIds.get(Number(r.chat));
      if (id === null || !chat) {
        report.unknown('ZWAMESSAGE.ZCHATSESSION', 'no such chat', String(r.id));
        return;
      }
      const kind = kindFromCode(report, 'ZWAMESSAGE.ZMESSAGETYPE', r.type, TYPE_KIND, id);
      const fromMe = toBool(r.from_me);
      const secs = toNumber(r.date);
      const ts = secs === null ? null : validMillis(Math.round((secs + APPLE_EPOCH_OFFSET_S) * 1000));
      if (ts === null) report.unknown('ZWAMESSAGE.ZMESSAGEDATE', 'not a valid time', id);
      let sender: string | null;
      if (kind === 'system') sender = null;
      else if (fromMe) sender = 'You';
      else if (r.member != null) sender = members.get(Number(r.member)) ?? cleanName(r.push) ?? 'Unknown contact';
      else sender = chat.partner ?? (typeof r.from_jid === 'string' ? nameFor(r.from_jid) : null) ?? 'Unknown contact';
      let text = cleanText(r.text);
      if (kind === 'location' && typeof r.lat === 'number' && typeof r.lon === 'number') text = [text, `📍 ${r.lat.toFixed(6)}, ${r.lon.toFixed(6)}${cleanText(r.title, 256) ? ` (${cleanText(r.title, 256)})` : ''}`].filter(Boolean).join('\n');
      else if (kind !== 'text' && text === null && r.title) text = cleanText(r.title);
      writer.addMessage({
        id,
        chatId: chat.id,
        sender,
        fromMe,
        timestamp: ts ?? 0,
        kind,
        text: kind === 'system' ? (text ?? 'System event') : text,
        sourceKey: typeof r.stanza === 'string' ? r.stanza : null,
        replyToKey: quotedStanzaId(r.meta),
        deleted: kind === 'deleted',
      });
      report.counts.messages += 1;
      if (r.media != null && ['image', 'video', 'voice', 'audio', 'document', 'sticker', 'gif'].includes(kind)) {
        media.add({ messageId: id, relPath: typeof r.path === 'string' ? r.path : null, name: typeof r.path === 'string' ? (r.path.split('/').pop() ?? null) : cleanText(r.title, 512), mime: null, size: toCount(r.size) });
      }
    }, { signal: opts.signal, onProgress: (done) => opts.onProgress?.({ phase: 'reading', done, total: null }) });
    await media.finish(report, opts);
  } finally {
    src.close();
  }
}
