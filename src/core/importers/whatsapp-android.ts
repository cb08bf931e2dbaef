/**
 * WhatsApp Android `msgstore.db` into the catalog. Two schemas exist:
 * - modern (2021+): `message`, `chat`, `jid`, `jid_map`, `message_media`,
 *   `message_quoted`, `message_add_on(_reaction)`, `message_system`,
 *   `message_revoked`, `message_location`, `call_log`;
 * - legacy: `messages` keyed by `key_remote_jid`, `messages_quotes`, `chat_list`.
 * Databases in the middle of WhatsApp's migration carry both; the one with
 * more real rows is read and the other is mentioned in the report.
 * Source row ids are unique per database, so they become catalog ids.
 */
import type Database from 'better-sqlite3';
import type { MessageKind } from '../catalog/types.js';
import { cleanText, MAX_MILLIS, MIN_MILLIS, toBool, toCount, validMillis } from '../catalog/validate.js';
import { BULK_SOURCE, type CatalogWriter, type MessageBulk, type PendingMedia } from '../catalog/writer.js';
import { throwIfCancelled } from '../errors.js';
import { MediaLinks, type MediaResolver } from './media.js';
import { kindFromCode, type ReportCollector } from './report.js';
import { columnNames, forEachRawRow, forEachRow, hasIndexOn, safeCount, tableNames, type SourceDb } from './sqlite-source.js';
import type { ImportOptions } from './types.js';
import { chatKindFromJid, loadJids, type ContactNames } from './whatsapp-android-names.js';

export type AndroidSchema = 'modern' | 'legacy';

/** message.message_type (modern) and messages.media_wa_type (legacy) share their numbering. */
const TYPE_KIND: Record<number, MessageKind> = {
  0: 'text',
  1: 'image',
  2: 'audio',
  3: 'video',
  4: 'contact',
  5: 'location',
  7: 'system',
  8: 'call',
  9: 'document',
  10: 'call',
  11: 'system',
  13: 'gif',
  14: 'contact',
  15: 'deleted',
  16: 'location',
  20: 'sticker',
  42: 'image',
  43: 'video',
  64: 'deleted',
  66: 'poll',
  82: 'voice',
};

/** message_system.action_type values whose meaning is known, as neutral text. */
const SYSTEM_ACTIONS: Record<number, string> = {
  1: 'Group subject changed',
  4: 'Participant added',
  5: 'Participant left',
  6: 'Group photo changed',
  7: 'Participant removed',
  10: 'Security code changed',
  11: 'Group created',
  12: 'Participant added',
  14: 'Participant removed',
  15: 'Made admin',
  18: 'Security code changed',
  19: 'Messages and calls are end-to-end encrypted',
  20: 'Joined using an invite link',
  27: 'Group description changed',
  28: 'Number changed',
  46: 'Chat is with a business account',
  56: 'Disappearing messages setting changed',
  58: 'Disappearing messages setting changed',
  67: 'Messages and calls are end-to-end encrypted',
};

/** Columns of `message` this importer reads or knowingly ignores; others are reported. */
const KNOWN_MESSAGE_COLUMNS = new Set([
  '_id', 'chat_row_id', 'from_me', 'key_id', 'sender_jid_row_id', 'status', 'broadcast', 'recipient_count', 'participant_hash', 'origination_flags', 'origin',
  'timestamp', 'received_timestamp', 'receipt_server_timestamp', 'message_type', 'text_data', 'starred', 'lookup_tables', 'sort_id', 'message_add_on_flags',
  'view_mode', 'translated_text',
]);

export function pickAndroidSchema(db: Database.Database): { schema: AndroidSchema | null; modernRows: number; legacyRows: number } {
  const tables = tableNames(db);
  const modernRows = tables.has('message') && tables.has('chat') ? (safeCount(db, 'SELECT count(*) FROM message WHERE chat_row_id > 0') ?? 0) : 0;
  const legacyRows = tables.has('messages') ? (safeCount(db, "SELECT count(*) FROM messages WHERE key_remote_jid <> '-1'") ?? 0) : 0;
  const hasModern = tables.has('message') && tables.has('chat');
  const hasLegacy = tables.has('messages');
  let schema: AndroidSchema | null = null;
  if (hasModern && (modernRows >= legacyRows || !hasLegacy)) schema = 'modern';
  else if (hasLegacy) schema = 'legacy';
  return { schema, modernRows, legacyRows };
}

export interface AndroidCounts {
  schema: AndroidSchema;
  chats: number;
  messages: number;
  /** Null when not asked for. */
  mediaRefs: number | null;
}

/**
 * Counts by SQL only, for detection. The media references are a scan of their whole table (20-50 ms
 * for the 1 GiB reference export) that only `chatsafe detect` shows: a backup does not ask for them.
 */
export function countAndroid(db: Database.Database, withMediaRefs = true): AndroidCounts | null {
  const { schema, modernRows, legacyRows } = pickAndroidSchema(db);
  if (!schema) return null;
  const tables = tableNames(db);
  if (schema === 'modern') {
    return {
      schema,
      // The chat rows that have messages: the chats the import makes. Through msgstore's index on
      // chat_row_id that is one probe per chat, where counting the distinct chat ids reads every
      // message; without such an index the probes would build one first, and reading is cheaper.
      chats: safeCount(db, hasIndexOn(db, 'message', 'chat_row_id')
        ? 'SELECT count(*) FROM chat c WHERE EXISTS (SELECT 1 FROM message m WHERE m.chat_row_id = c._id) AND c._id > 0'
        : 'SELECT count(DISTINCT m.chat_row_id) FROM message m JOIN chat c ON c._id = m.chat_row_id WHERE m.chat_row_id > 0') ?? 0,
      messages: modernRows,
      mediaRefs: !withMediaRefs ? null : tables.has('message_media') ? (safeCount(db, "SELECT count(*) FROM message_media WHERE file_path IS NOT NULL AND file_path <> ''") ?? 0) : 0,
    };
  }
  return {
    schema,
    chats: safeCount(db, "SELECT count(DISTINCT key_remote_jid) FROM messages WHERE key_remote_jid <> '-1'") ?? 0,
    messages: legacyRows,
    mediaRefs: withMediaRefs ? (safeCount(db, "SELECT count(*) FROM messages WHERE media_name IS NOT NULL AND media_name <> ''") ?? 0) : null,
  };
}

interface Ctx {
  readonly db: Database.Database;
  readonly writer: CatalogWriter;
  readonly report: ReportCollector;
  readonly names: ContactNames;
  readonly media: MediaLinks;
  readonly opts: ImportOptions;
}


export async function importWhatsAppAndroid(src: SourceDb, writer: CatalogWriter, report: ReportCollector, names: ContactNames, mediaRoot: MediaResolver | null, opts: ImportOptions): Promise<AndroidSchema> {
  const { schema, modernRows, legacyRows } = pickAndroidSchema(src.db);
  if (!schema) throw new Error('no WhatsApp message table');
  if (schema === 'modern' && legacyRows > 0) report.warn(`The database also holds ${legacyRows} messages in the legacy "messages" table; the ${modernRows} in the newer "message" table were imported.`);
  if (schema === 'legacy' && modernRows > 0) report.warn(`The database also holds ${modernRows} messages in the newer "message" table; the ${legacyRows} in the legacy "messages" table were imported.`);
  writer.setMeta('source_schema', `whatsapp-android-${schema}`);
  const media = new MediaLinks(mediaRoot, writer);
  const ctx: Ctx = { db: src.db, writer, report, names, media, opts };
  if (schema === 'modern') await importModern(ctx);
  else await importLegacy(ctx);
  await media.finish(report, opts);
  return schema;
}

/** The last segment of a media path; media_name is often the upload's random name, the path's is the one people see. */
function fileNameOf(path: unknown): string | null {
  return typeof path === 'string' && path !== '' ? cleanText(path.split(/[\\/]/).pop() ?? '', 512) || null : null;
}

function senderName(ctx: Ctx, fromMe: boolean, jid: string | null): string {
  if (fromMe) return 'You';
  return ctx.names.nameFor(jid) ?? 'Unknown contact';
}

/** A message's media reference as the row loop and the bulk path both take it. */
function mediaRef(messageId: number, path: unknown, mediaName: unknown, mime: unknown, size: unknown): PendingMedia {
  return { messageId, relPath: typeof path === 'string' ? path : null, name: fileNameOf(path) ?? cleanText(mediaName, 512), mime: cleanText(mime, 255), size: toCount(size) };
}

/** Message types the bulk path takes: all known ones but system events and locations, whose text the row loop composes. */
const BULK_TYPES = Object.entries(TYPE_KIND).filter(([, kind]) => kind !== 'system' && kind !== 'location');

/** Largest integer a JavaScript number holds exactly: beyond it the row loop's lookups by number could differ from SQL's. */
const SAFE = Number.MAX_SAFE_INTEGER;

/**
 * The SQL condition for a row the bulk path renders exactly as the row loop:
 * integer values in the ranges the loop accepts without a report, a known
 * type that is neither a system event nor a location, and no system action.
 * A row the bulk path leaves out is not lost: the row loop takes it.
 */
function plainRowCondition(select: Record<MessageColumn, string>): string {
  // Unary + keeps SQLite from using these terms to pick an index: the rows are read in id order,
  // and a range over m._id here would replace the caller's range of ids (a full scan per range).
  const isInt = (expr: string, lo: number, hi: number) => `(typeof(${expr}) = 'integer' AND +${expr} BETWEEN ${lo} AND ${hi})`;
  return [
    isInt('m._id', 0, SAFE),
    // The chat is one the import made: the caller joins the table of them.
    isInt('m.chat_row_id', 1, SAFE),
    isInt('m.from_me', -SAFE, SAFE),
    `(m.sender_jid_row_id IS NULL OR ${isInt('m.sender_jid_row_id', -SAFE, SAFE)})`,
    isInt('m.timestamp', MIN_MILLIS, MAX_MILLIS),
    `(typeof(m.message_type) = 'integer' AND +m.message_type IN (${BULK_TYPES.map(([code]) => code).join(', ')}))`,
    `${select.action} IS NULL`,
  ].join(' AND ');
}

/**
 * The bulk path, a range of ids at a time, so progress is reported and a
 * cancel is honoured between ranges. In each range, on the catalog's
 * connection with the source attached:
 * 1. the plain rows (plainRowCondition) are inserted by one INSERT ... SELECT,
 *    with senders looked up in tables built here from the names the row loop uses;
 * 2. their media references are classified by the same MediaLinks as the
 *    loop's: a reference to a file the source lacks gets its row inside one
 *    INSERT, one to a file it has waits to be hashed;
 * 3. the other rows of the range (those not in the catalog now: system events,
 *    locations, odd values, unknown codes, bad times) go through `handleRow`,
 *    a page at a time, in id order, so the report lists them as before.
 */
async function bulkImportMessages(
  ctx: Ctx,
  bulk: MessageBulk,
  source: { from: string; select: Record<MessageColumn, string> },
  rowColumns: string,
  chatIds: Map<number, { id: number; jid: string | null }>,
  jids: Map<number, string>,
  handleRow: (row: unknown[]) => void,
  onProgress: ReturnType<typeof progress>,
): Promise<void> {
  const { db, report } = ctx;
  // The sender of a message from someone else with no sender row is the chat's own contact.
  // A chat row id that is not an integer (a damaged table) matches no plain row: those rows take the row loop.
  bulk.table('bulk_chat', ['id', 'sender'], [...chatIds].filter(([src]) => Number.isSafeInteger(src)).map(([src, c]) => [src, c.id, senderName(ctx, false, c.jid)]));
  bulk.table('bulk_sender', ['sender'], [...jids].map(([row, jid]) => [row, senderName(ctx, false, jid)]));
  bulk.table('bulk_kind', ['kind'], BULK_TYPES.map(([code, kind]) => [Number(code), kind]));
  bulk.names(['You', 'Unknown contact', ...[...chatIds.values()].map((c) => senderName(ctx, false, c.jid)), ...[...jids.values()].map((jid) => senderName(ctx, false, jid))]);
  const s = source.select;
  const plain = plainRowCondition(s);
  // The inner query reads the source rows with their side tables; the outer one maps them to catalog values.
  const insert = `SELECT m.id AS id, c.id AS chat_id,
      CASE WHEN m.from_me <> 0 THEN 'You' WHEN m.sender > 0 THEN coalesce(sn.sender, 'Unknown contact') ELSE c.sender END AS sender,
      m.from_me <> 0 AS from_me, m.ts AS timestamp, k.kind AS kind, m.text AS text,
      CASE WHEN typeof(m.reply_to) = 'integer' AND m.reply_to BETWEEN 0 AND ${SAFE} THEN m.reply_to END AS reply_to,
      CASE WHEN m.forwarded IS NOT NULL THEN 'forwarded' END AS forwarded_from,
      m.edited IS NOT NULL AS edited,
      k.kind = 'deleted' OR m.revoked IS NOT NULL AS deleted
    FROM (SELECT ${(['id', 'chat', 'from_me', 'sender', 'ts', 'type', 'text', 'reply_to', 'forwarded', 'edited', 'revoked'] as const).map((c) => `${s[c]} AS ${c}`).join(', ')}
      FROM ${source.from} WHERE m._id >= ? AND m._id < ? AND m.chat_row_id > 0 AND ${plain}) m
    JOIN temp.bulk_chat c ON c.k = m.chat
    JOIN temp.bulk_kind k ON k.k = m.type
    LEFT JOIN temp.bulk_sender sn ON sn.k = m.sender
    ORDER BY m.id`;
  // Right after step 1, the messages of the range in the catalog are exactly the ones it inserted.
  // A reference whose file the source lacks (often most of them) gets its row inside the statement;
  // one whose file is there is kept aside and waits for hashing, as the row loop's would.
  const found: PendingMedia[] = [];
  bulk.function('bulk_media_missing', (id, path, name, mime, size) => {
    const row = ctx.media.classify(mediaRef(id as number, path, name, mime, size), (p) => found.push(p));
    return row && JSON.stringify([row.name, row.mime, row.size]);
  });
  const media = s.media_row === 'NULL' ? null
    : `WITH r AS MATERIALIZED (
        SELECT mm.message_row_id AS id, bulk_media_missing(mm.message_row_id, ${s.media_path}, ${s.media_name}, ${s.media_mime}, ${s.media_size}) AS row
        FROM ${BULK_SOURCE}.message_media mm JOIN main.messages c ON c.id = mm.message_row_id
        WHERE mm.message_row_id >= ? AND mm.message_row_id < ? ORDER BY mm.message_row_id)
      SELECT id AS message_id, NULL AS path, row ->> '$[0]' AS name, row ->> '$[1]' AS mime, row ->> '$[2]' AS size, NULL AS sha256 FROM r WHERE row IS NOT NULL`;
  const others = `SELECT ${rowColumns} FROM ${source.from}
    WHERE m._id >= ? AND m._id < ? AND m._id > ? AND m.chat_row_id > 0 AND NOT EXISTS (SELECT 1 FROM main.messages c WHERE c.id = m._id)
    ORDER BY m._id LIMIT ${ROW_PAGE}`;

  // Ranges start at ids that exist, so sparse or scattered ids cost no empty ranges.
  const nextId = db.prepare(`SELECT _id FROM message WHERE _id >= ? AND _id <= ${SAFE} ORDER BY _id LIMIT 1`).pluck();
  let done = 0;
  for (let lo = nextId.get(-SAFE) as unknown; typeof lo === 'number'; ) {
    throwIfCancelled(ctx.opts.signal);
    const hi = Math.min(lo + BULK_RANGE, SAFE + 1);
    const n = bulk.insertMessages(insert, [lo, hi]);
    report.counts.messages += n;
    done += n;
    if (media) {
      bulk.insertMedia(media, [lo, hi]);
      for (const p of found.splice(0)) ctx.writer.addPendingMedia(p);
    }
    // Paged by the last id seen (ids of a damaged table need not be integers).
    for (let after: unknown = lo - 1; ; ) {
      const rows = bulk.rows(others, [lo, hi, after]);
      for (const row of rows) handleRow(row);
      done += rows.length;
      if (rows.length < ROW_PAGE) break;
      after = rows[rows.length - 1]![0];
    }
    onProgress.onProgress(done);
    await new Promise<void>((r) => setImmediate(r));
    lo = nextId.get(hi);
  }
}

/** Rows the bulk path hands to the row loop at once: they are few, and a page bounds the memory hostile rows take. */
const ROW_PAGE = 256;

/** Ids per bulk statement: about a tenth of a second's work, so progress moves and a cancel is prompt. */
const BULK_RANGE = 25_000;

/** The columns the message query selects, in this order. */
const MESSAGE_COLUMNS = [
  'id', 'chat', 'from_me', 'sender', 'ts', 'type', 'text', 'media_row', 'media_path', 'media_mime', 'media_size', 'media_name',
  'reply_to', 'action', 'revoked', 'lat', 'lon', 'place', 'forwarded', 'edited',
] as const;
type MessageColumn = (typeof MESSAGE_COLUMNS)[number];

async function importModern(ctx: Ctx): Promise<void> {
  const { db, writer, report, names } = ctx;
  const tables = tableNames(db);
  const jids = loadJids(db, tables);
  // An empty side table costs a lookup per message and brings nothing: leave it out of the join.
  const has = (t: string) => tables.has(t) && (safeCount(db, `SELECT EXISTS (SELECT 1 FROM "${t}")`) ?? 1) > 0;

  // Chats: one catalog chat per source chat row that has messages or a jid.
  const chatIds = new Map<number, { id: number; jid: string | null }>();
  const chatByJidRow = new Map<number, number>();
  const chatCols = columnNames(db, 'chat');
  const subject = chatCols.has('subject') ? 'subject' : 'NULL';
  for (const c of db.prepare(`SELECT _id, jid_row_id, ${subject} AS subject FROM chat ORDER BY _id`).all() as { _id: number; jid_row_id: number | null; subject: unknown }[]) {
    const jid = c.jid_row_id != null ? (jids.get(c.jid_row_id) ?? null) : null;
    const hasMessages = (safeCount(db, 'SELECT EXISTS (SELECT 1 FROM message WHERE chat_row_id = ?)', c._id) ?? 0) > 0;
    if (!hasMessages) continue;
    const kind = chatKindFromJid(jid);
    const name = kind === 'group' ? (cleanText(c.subject, 256) ?? names.nameFor(jid)) : kind === 'status' ? 'Status updates' : names.nameFor(jid);
    const id = writer.addChat({ kind, name, address: jid });
    chatIds.set(c._id, { id, jid });
    if (c.jid_row_id != null) chatByJidRow.set(c.jid_row_id, id);
    report.counts.chats += 1;
    if (kind === 'direct' && jid) writer.addParticipant(id, { name: names.nameFor(jid), address: jid });
  }
  if (has('group_participants')) {
    const byJid = new Map<string, number>();
    for (const [, v] of chatIds) if (v.jid) byJid.set(v.jid, v.id);
    for (const p of db.prepare('SELECT gjid, jid, admin FROM group_participants').iterate() as Iterable<{ gjid: unknown; jid: unknown; admin: unknown }>) {
      const chatId = typeof p.gjid === 'string' ? byJid.get(p.gjid) : undefined;
      if (chatId === undefined || typeof p.jid !== 'string') continue;
      // WhatsApp stores the owner as an empty jid in group_participants.
      writer.addParticipant(chatId, { name: p.jid === '' ? 'You' : names.nameFor(p.jid), address: p.jid || null, admin: toBool(p.admin) });
    }
  }

  // Unknown columns: counted in one pass so a new WhatsApp field is reported, not silently dropped.
  const unknownCols = [...columnNames(db, 'message')].filter((c) => !KNOWN_MESSAGE_COLUMNS.has(c) && /^[A-Za-z_][A-Za-z0-9_]*$/.test(c));
  if (unknownCols.length > 0) {
    const row = db.prepare(`SELECT ${unknownCols.map((c) => `count("${c}") AS "${c}"`).join(', ')} FROM message WHERE chat_row_id > 0`).get() as Record<string, number>;
    for (const c of unknownCols) if ((row[c] ?? 0) > 0) report.unknown('message column not read', c, 'rows with a value', row[c]);
  }

  // The query's joins and column expressions, for the source as the importer's own connection
  // reads it (prefix '') and as the catalog's connection sees it when attached (BULK_SOURCE).
  // Only the columns this source has are selected: a constant NULL column still costs a conversion
  // per row, a quarter of the query's time on a database without the side tables. The others read as null.
  const query = (prefix: string) => {
    const t = (name: string) => `${prefix}${name}`;
    const joins: string[] = [];
    const select: Record<MessageColumn, string> = {
      id: 'm._id', chat: 'm.chat_row_id', from_me: 'm.from_me', sender: 'm.sender_jid_row_id', ts: 'm.timestamp', type: 'm.message_type', text: 'm.text_data',
      media_row: 'NULL', media_path: 'NULL', media_mime: 'NULL', media_size: 'NULL', media_name: 'NULL',
      reply_to: 'NULL', action: 'NULL', revoked: 'NULL', lat: 'NULL', lon: 'NULL', place: 'NULL', forwarded: 'NULL', edited: 'NULL',
    };
    /** A side table keyed by message_row_id, when the source has rows in it, with the columns it gives. */
    const side = (table: string, alias: string, columns: Partial<Record<MessageColumn, string>>): boolean => {
      if (!has(table)) return false;
      joins.push(`LEFT JOIN ${t(table)} ${alias} ON ${alias}.message_row_id = m._id`);
      Object.assign(select, columns);
      return true;
    };
    if (side('message_media', 'mm', { media_row: 'mm.message_row_id' })) {
      const mc = columnNames(db, 'message_media');
      if (mc.has('file_path')) select.media_path = 'mm.file_path';
      if (mc.has('mime_type')) select.media_mime = 'mm.mime_type';
      select.media_size = mc.has('file_length') ? 'coalesce(mm.file_length, mm.file_size)' : mc.has('file_size') ? 'mm.file_size' : 'NULL';
      if (mc.has('media_name')) select.media_name = 'mm.media_name';
    }
    // Only rows that quote something pay for the lookup of the quoted message.
    side('message_quoted', 'q', {
      reply_to: `CASE WHEN q.message_row_id IS NOT NULL THEN (SELECT p._id FROM ${t('message')} p WHERE p.chat_row_id = q.parent_message_chat_row_id AND p.from_me = q.from_me AND p.key_id = q.key_id LIMIT 1) END`,
    });
    side('message_system', 'ms', { action: 'ms.action_type' });
    side('message_revoked', 'mr', { revoked: 'mr.message_row_id' });
    side('message_location', 'ml', { lat: 'ml.latitude', lon: 'ml.longitude', place: 'ml.place_name' });
    side('message_forwarded', 'mf', { forwarded: 'mf.message_row_id' });
    side('message_edit_info', 'me', { edited: 'me.message_row_id' });
    return { from: `${t('message')} m ${joins.join(' ')}`, select };
  };
  const local = query('');
  const selected = MESSAGE_COLUMNS.filter((c) => local.select[c] !== 'NULL');
  /** Each column's place in a row (-1: not selected), so the row is read by name and not by a second list kept in step by hand. */
  const AT = Object.fromEntries(MESSAGE_COLUMNS.map((c) => [c, selected.indexOf(c)])) as Record<MessageColumn, number>;
  const col = (row: unknown[], at: number): unknown => (at < 0 ? null : row[at]);
  const total = safeCount(db, 'SELECT count(*) FROM message WHERE chat_row_id > 0');
  const onProgress = progress(ctx, total);
  const columnsOf = (q: ReturnType<typeof query>) => selected.map((c) => `${q.select[c]} AS ${c}`).join(', ');

  const handleRow = (row: unknown[]): void => {
    const rawId = col(row, AT.id);
    const rawSender = col(row, AT.sender);
    const action = col(row, AT.action);
    const lat = col(row, AT.lat);
    const lon = col(row, AT.lon);
    const id = toCount(rawId);
    const chat = chatIds.get(Number(col(row, AT.chat)));
    if (id === null || !chat) {
      report.unknown('message.chat_row_id', 'chat not in chat table', String(rawId));
      return;
    }
    let kind = kindFromCode(report, 'message.message_type', col(row, AT.type), TYPE_KIND, id);
    const fromMe = toBool(col(row, AT.from_me));
    const senderJid = fromMe ? null : toCount(rawSender) ? (jids.get(Number(rawSender)) ?? null) : chat.jid;
    let text = cleanText(col(row, AT.text));
    let sender: string | null = senderName(ctx, fromMe, senderJid);
    if (rawSender && toCount(rawSender) && !jids.has(Number(rawSender)) && !fromMe) sender = 'Unknown contact';
    if (kind === 'system' || action != null) {
      kind = 'system';
      sender = null;
      const code = toCount(action);
      if (code !== null && SYSTEM_ACTIONS[code]) text = text ?? SYSTEM_ACTIONS[code]!;
      else {
        if (action != null) report.unknown('message_system.action_type', action, id);
        text = text ?? 'System event';
      }
    }
    if (kind === 'location' && typeof lat === 'number' && typeof lon === 'number') {
      const placeName = cleanText(col(row, AT.place), 256);
      text = [text, `📍 ${lat.toFixed(6)}, ${lon.toFixed(6)}${placeName ? ` (${placeName})` : ''}`].filter(Boolean).join('\n');
    }
    const deleted = kind === 'deleted' || col(row, AT.revoked) != null;
    const ts = validMillis(col(row, AT.ts));
    if (ts === null) report.unknown('message.timestamp', 'not a valid time', id);
    writer.addMessage({
      id,
      chatId: chat.id,
      sender,
      fromMe,
      timestamp: ts ?? 0,
      kind,
      text,
      replyTo: toCount(col(row, AT.reply_to)),
      forwardedFrom: col(row, AT.forwarded) != null ? 'forwarded' : null,
      edited: col(row, AT.edited) != null,
      deleted,
    });
    report.counts.messages += 1;
    if (col(row, AT.media_row) != null) ctx.media.add(mediaRef(id, col(row, AT.media_path), col(row, AT.media_name), col(row, AT.media_mime), col(row, AT.media_size)));
  };

  // Most rows take the bulk path (bulkImportMessages): SQL inserts them with no JavaScript value per
  // column, 3-4 times faster. Without it (a source that cannot be attached), every row goes through
  // handleRow, which stays the reference for what a row becomes.
  const bulk = ctx.opts.bulk === false ? null : writer.bulkFrom(db.name);
  if (!bulk) {
    await forEachRawRow(db, `SELECT ${columnsOf(local)} FROM ${local.from} WHERE m.chat_row_id > 0 ORDER BY m._id`, handleRow, onProgress);
  } else {
    try {
      const attached = query(`${BULK_SOURCE}.`);
      await bulkImportMessages(ctx, bulk, attached, columnsOf(attached), chatIds, jids, handleRow, onProgress);
    } finally {
      bulk.close();
    }
    // Ids beyond what a JavaScript number holds exactly, which the ranges leave out: the loop reports them.
    await forEachRawRow(db, `SELECT ${columnsOf(local)} FROM ${local.from} WHERE m.chat_row_id > 0 AND (m._id < ${-SAFE} OR m._id > ${SAFE}) ORDER BY m._id`, handleRow);
  }

  if (has('message_add_on') && has('message_add_on_reaction')) {
    const q = `SELECT a.parent_message_row_id AS parent, a.from_me, a.sender_jid_row_id AS sender, r.reaction, coalesce(r.sender_timestamp, a.timestamp) AS ts
      FROM message_add_on a JOIN message_add_on_reaction r ON r.message_add_on_row_id = a._id JOIN message p ON p._id = a.parent_message_row_id AND p.chat_row_id > 0`;
    for (const r of db.prepare(q).iterate() as Iterable<Record<string, unknown>>) {
      const parent = toCount(r.parent);
      const emoji = cleanText(r.reaction, 64);
      if (parent === null || !emoji) continue; // an empty reaction is a withdrawn one
      const fromMe = toBool(r.from_me);
      writer.addReaction(parent, { sender: senderName(ctx, fromMe, fromMe ? null : (jids.get(Number(r.sender)) ?? null)), emoji, timestamp: validMillis(r.ts) });
      report.counts.reactions += 1;
    }
  }

  if (has('call_log')) {
    for (const c of db.prepare('SELECT _id, jid_row_id, from_me, timestamp, video_call, duration, call_result FROM call_log').iterate() as Iterable<Record<string, unknown>>) {
      const ts = validMillis(c.timestamp);
      if (ts === null) {
        report.unknown('call_log.timestamp', 'not a valid time', String(c._id));
        continue;
      }
      const jidRow = toCount(c.jid_row_id);
      const jid = jidRow !== null ? (jids.get(jidRow) ?? null) : null;
      const duration = toCount(c.duration) ?? 0;
      writer.addCall({
        chatId: jidRow !== null ? (chatByJidRow.get(jidRow) ?? null) : null,
        peer: names.nameFor(jid),
        fromMe: toBool(c.from_me),
        timestamp: ts,
        durationSeconds: duration,
        video: toBool(c.video_call),
        // WhatsApp's call_result codes are not documented; the duration tells whether the call connected.
        result: duration > 0 ? 'answered' : 'not answered',
      });
      report.counts.calls += 1;
    }
  }
}

async function importLegacy(ctx: Ctx): Promise<void> {
  const { db, writer, report, names } = ctx;
  const tables = tableNames(db);
  const cols = columnNames(db, 'messages');
  const col = (c: string, as = c) => (cols.has(c) ? `m.${c} AS ${as}` : `NULL AS ${as}`);
  const subjects = new Map<string, string>();
  if (tables.has('chat_list') && columnNames(db, 'chat_list').has('subject')) {
    for (const r of db.prepare('SELECT key_remote_jid AS jid, subject FROM chat_list').iterate() as Iterable<{ jid: unknown; subject: unknown }>) {
      const s = cleanText(r.subject, 256);
      if (typeof r.jid === 'string' && s) subjects.set(r.jid, s);
    }
  }
  const chats = new Map<string, number>();
  const chatFor = (jid: string): number => {
    let id = chats.get(jid);
    if (id === undefined) {
      const kind = chatKindFromJid(jid);
      const name = kind === 'status' ? 'Status updates' : (subjects.get(jid) ?? names.nameFor(jid));
      id = writer.addChat({ kind, name, address: jid });
      chats.set(jid, id);
      report.counts.chats += 1;
      if (kind === 'direct') writer.addParticipant(id, { name: names.nameFor(jid), address: jid });
    }
    return id;
  };
  const joins: string[] = [];
  const extra: string[] = [];
  if (tables.has('messages_quotes') && cols.has('quoted_row_id')) {
    joins.push('LEFT JOIN messages_quotes qq ON qq._id = m.quoted_row_id AND m.quoted_row_id > 0');
    extra.push('(SELECT p._id FROM messages p WHERE p.key_remote_jid = m.key_remote_jid AND p.key_id = qq.key_id LIMIT 1) AS reply_to');
  } else extra.push('NULL AS reply_to');
  const sql = `SELECT m._id AS id, m.key_remote_jid AS jid, ${col('key_from_me', 'from_me')}, ${col('data', 'text')}, ${col('timestamp', 'ts')}, ${col('media_wa_type', 'type')},
    ${col('status')}, ${col('media_mime_type', 'mime')}, ${col('media_size', 'size')}, ${col('media_name', 'media_name')}, ${col('media_caption', 'caption')},
    ${col('latitude', 'lat')}, ${col('longitude', 'lon')}, ${col('remote_resource', 'remote')}, ${col('forwarded')}, ${col('edit_version', 'edit')}, ${extra.join(', ')}
    FROM messages m ${joins.join(' ')} WHERE m.key_remote_jid <> '-1' ORDER BY m._id`;
  const total = safeCount(db, "SELECT count(*) FROM messages WHERE key_remote_jid <> '-1'");
  await forEachRow(db, sql, (r) => {
    const id = toCount(r.id);
    if (id === null || typeof r.jid !== 'string' || r.jid.length > 256) {
      report.unknown('messages.key_remote_jid', 'missing or invalid', String(r.id));
      return;
    }
    const chatId = chatFor(r.jid);
    let kind = kindFromCode(report, 'messages.media_wa_type', r.type, TYPE_KIND, id);
    const fromMe = toBool(r.from_me);
    // Legacy system messages are text rows with status 6.
    if (toCount(r.status) === 6 && kind === 'text') kind = 'system';
    const senderJid = fromMe ? null : typeof r.remote === 'string' && r.remote !== '' ? r.remote : r.jid;
    let text = cleanText(r.text) ?? cleanText(r.caption);
    if (kind === 'location' && typeof r.lat === 'number' && typeof r.lon === 'number' && (r.lat !== 0 || r.lon !== 0)) text = [text, `📍 ${r.lat.toFixed(6)}, ${r.lon.toFixed(6)}`].filter(Boolean).join('\n');
    const ts = validMillis(r.ts);
    if (ts === null) report.unknown('messages.timestamp', 'not a valid time', id);
    writer.addMessage({
      id,
      chatId,
      sender: kind === 'system' ? null : senderName(ctx, fromMe, senderJid),
      fromMe,
      timestamp: ts ?? 0,
      kind,
      text: kind === 'system' ? (text ?? 'System event') : text,
      replyTo: toCount(r.reply_to),
      forwardedFrom: toBool(r.forwarded) ? 'forwarded' : null,
      edited: (toCount(r.edit) ?? 0) > 0,
      deleted: kind === 'deleted',
    });
    report.counts.messages += 1;
    const isMedia = ['image', 'video', 'audio', 'voice', 'document', 'sticker', 'gif'].includes(kind);
    if (isMedia) ctx.media.add({ messageId: id, relPath: null, name: cleanText(r.media_name, 512), mime: cleanText(r.mime, 255), size: toCount(r.size) });
  }, progress(ctx, total));
}

function progress(ctx: Ctx, total: number | null) {
  return { signal: ctx.opts.signal, total, onProgress: (done: number) => ctx.opts.onProgress?.({ phase: 'reading', done, total }) };
}
