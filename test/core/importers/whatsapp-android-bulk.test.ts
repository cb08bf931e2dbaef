/**
 * The Android importer's bulk path (SQL inserts the plain rows) against its
 * row loop (every row in JavaScript): on every database, the two must give the
 * same catalog, table by table, and the same report, down to the order of the
 * examples. Both runs read the same source; the source is never written.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { buildCatalog } from '../../../src/core/importers/import.js';
import type { ImportReport } from '../../../src/core/importers/types.js';
import { fixture } from '../../helpers/fixtures.js';
import { MODERN_SCHEMA, sqlite, tempDir, treeDigest, WA_DB_SCHEMA } from './helpers.js';

const android = fixture('whatsapp-android/test_msgstore.db');

/** Every catalog table's rows in key order, hashed, with the full-text index's answer to a query. */
function catalogDigest(path: string): Record<string, string | number> {
  const db = new Database(path, { readonly: true });
  try {
    const out: Record<string, string | number> = {};
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'messages_fts%' ORDER BY name").pluck().all() as string[];
    for (const name of tables) {
      const hash = createHash('sha256');
      for (const row of db.prepare(`SELECT * FROM "${name}" ORDER BY ${name === 'meta' ? 'key' : 'rowid'}`).raw(true).iterate() as Iterable<unknown[]>) {
        // The import report in meta carries how long the import took.
        hash.update(JSON.stringify(row, (_k, v: unknown) => (typeof v === 'string' ? v.replace(/"durationMs":\d+,?/, '') : Buffer.isBuffer(v) ? v.toString('hex') : v)));
      }
      out[name] = hash.digest('hex');
    }
    out.fts = (db.prepare("SELECT count(*) FROM messages_fts WHERE messages_fts MATCH 'hello OR ctl'").pluck().get() as number);
    return out;
  } finally {
    db.close();
  }
}

async function bothWays(t: { after: (fn: () => void) => void }, source: string): Promise<{ bulk: ImportReport; rows: ImportReport; catalog: Record<string, string | number> }> {
  const dir = tempDir(t);
  const before = treeDigest(source);
  const bulk = await buildCatalog(source, join(dir, 'bulk.db'));
  const rows = await buildCatalog(source, join(dir, 'rows.db'), { bulk: false });
  assert.deepEqual(treeDigest(source), before, 'the source is not written');
  const catalog = catalogDigest(join(dir, 'bulk.db'));
  assert.deepEqual(catalog, catalogDigest(join(dir, 'rows.db')));
  const strip = (r: ImportReport) => ({ ...r, durationMs: 0 });
  assert.deepEqual(strip(bulk), strip(rows));
  return { bulk, rows, catalog };
}

const T = 1_700_000_000_000;
const SAFE = Number.MAX_SAFE_INTEGER;

test('bulk and row loop agree on a modern database full of odd values, across several id ranges', async (t) => {
  const dir = tempDir(t);
  const wa = join(dir, 'WhatsApp');
  // No type constraints anywhere: a damaged or hostile database may hold any value in any column.
  const schema = MODERN_SCHEMA.replace(/ NOT NULL/g, '')
    + 'CREATE TABLE message_forwarded (message_row_id INTEGER PRIMARY KEY, forward_score INTEGER);'
    + 'CREATE TABLE message_edit_info (message_row_id INTEGER PRIMARY KEY, edited_timestamp INTEGER);'
    + 'CREATE TABLE message_location (message_row_id INTEGER PRIMARY KEY, latitude REAL, longitude REAL, place_name TEXT);'
    // WhatsApp's own index, which finds a quoted message by its key.
    + 'CREATE INDEX message_key_index ON message (chat_row_id, from_me, key_id, sender_jid_row_id);';
  const messages: unknown[][] = [];
  const media: unknown[][] = [];
  const quoted: unknown[][] = [];
  const revoked: unknown[][] = [];
  const forwarded: unknown[][] = [];
  const edited: unknown[][] = [];
  const system: unknown[][] = [];
  const located: unknown[][] = [];
  // Odd values, each given to a few rows spread over the ids.
  const oddTypes: unknown[] = ['1', 1.0, 1.5, Buffer.from([1]), null, 99, 7, 5, 15, 64, -1, 2 ** 60];
  const oddTimes: unknown[] = [String(T), T + 0.5, null, 5, 2 ** 62, 'soon', Buffer.from('x')];
  const oddFromMe: unknown[] = ['1', 2, null, 0.5, 'no', -1];
  const oddSenders: unknown[] = [0, -3, 4, 999, '2', 2.5, null, 2 ** 60, Buffer.from([2])];
  const oddChats: unknown[] = ['10', 10.0, 12, 99, 0.5, Buffer.from([10])];
  const oddTexts: unknown[] = ['ctl\u0001char\u007f', 'nul\u0000inside', 'x'.repeat(70_000), '🙂'.repeat(40_000), 42, 4.25, Buffer.from('blob'), '', '   '];
  for (let i = 1; i <= 60_000; i++) {
    const id = i * 2; // ids run to 120,000: five ranges of 25,000
    let type: unknown = i % 10 === 0 ? 1 : 0;
    let ts: unknown = T + i * 1000;
    let fromMe: unknown = i % 3 === 0 ? 1 : 0;
    let sender: unknown = i % 4 === 0 ? 2 : i % 4 === 1 ? 1 : i % 4 === 2 ? 4 : null;
    let chat: unknown = i % 2 === 0 ? 10 : 11;
    let text: unknown = i % 7 === 0 ? null : `hello ${i}`;
    if (i % 997 === 0) type = oddTypes[(i / 997) % oddTypes.length];
    if (i % 1009 === 0) ts = oddTimes[(i / 1009) % oddTimes.length];
    if (i % 1013 === 0) fromMe = oddFromMe[(i / 1013) % oddFromMe.length];
    // Odd senders and chats come with from_me 0, or the sender would be "You" whatever they are.
    if (i % 1019 === 0) [sender, fromMe] = [oddSenders[(i / 1019) % oddSenders.length], 0];
    if (i % 1021 === 0) [chat, fromMe] = [oddChats[(i / 1021) % oddChats.length], 0];
    if (i % 1031 === 0) text = oddTexts[(i / 1031) % oddTexts.length];
    // A run of system events longer than the row loop's page, inside one range.
    if (i >= 20_000 && i < 20_700) type = 7;
    messages.push([id, chat, fromMe, `K${id}`, sender, ts, type, text]);
    if (i % 5 === 0) media.push([id, chat, i % 15 === 0 ? 'Media/WhatsApp Images/IMG-1.jpg' : i % 25 === 0 ? '../../etc/passwd' : `Media/WhatsApp Images/gone-${i}.jpg`, i, 'image/jpeg', `name-${i}`]);
    if (i % 11 === 0) quoted.push([id, chat, 10, 0, `K${id - 2}`]);
    if (i % 13 === 0) revoked.push([id, `K${id}`, null]);
    if (i % 17 === 0) forwarded.push([id, 1]);
    if (i % 19 === 0) edited.push([id, T]);
    if (i % 23 === 0) system.push([id, i % 46 === 0 ? 11 : 12345]);
    if (i % 29 === 0) { located.push([id, 52.5 + i / 1e6, 13.4, i % 58 === 0 ? 'Café' : null]); if (i % 2 === 0) messages[messages.length - 1]![6] = 5; }
  }
  // Ids a JavaScript number cannot hold exactly, and below zero: the row loop reports them.
  messages.push([-7, 10, 0, 'Kneg', 1, T, 0, 'negative id']);
  messages.push([2n ** 62n, 10, 0, 'Khuge', 1, T, 0, 'huge id']);
  messages.push([SAFE + 1, 10, 0, 'Ksafe', 1, T, 0, 'just past safe']);
  sqlite(join(wa, 'Databases', 'msgstore.db'), schema, [
    ['INSERT INTO jid (_id, user, server, type, raw_string) VALUES (?, ?, ?, 0, ?)', [
      [1, '491111', 's.whatsapp.net', '491111@s.whatsapp.net'],
      [2, '492222', 's.whatsapp.net', '492222@s.whatsapp.net'],
      [3, '491111-1600000000', 'g.us', '491111-1600000000@g.us'],
      [4, '12345', 'lid', '12345@lid'],
      [5, '493333', 's.whatsapp.net', '493333@s.whatsapp.net'],
    ]],
    ['INSERT INTO jid_map VALUES (?, ?)', [[4, 2]]],
    ['INSERT INTO chat (_id, jid_row_id, subject) VALUES (?, ?, ?)', [[10, 1, null], [11, 3, 'Climbing'], [12, 5, null], [13, null, 'No messages']]],
    ['INSERT INTO message (_id, chat_row_id, from_me, key_id, sender_jid_row_id, timestamp, message_type, text_data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)', messages],
    ['INSERT INTO message_media (message_row_id, chat_row_id, file_path, file_size, mime_type, media_name) VALUES (?, ?, ?, ?, ?, ?)', media],
    ['INSERT INTO message_quoted (message_row_id, chat_row_id, parent_message_chat_row_id, from_me, key_id) VALUES (?, ?, ?, ?, ?)', quoted],
    ['INSERT INTO message_revoked VALUES (?, ?, ?)', revoked],
    ['INSERT INTO message_forwarded VALUES (?, ?)', forwarded],
    ['INSERT INTO message_edit_info VALUES (?, ?)', edited],
    ['INSERT INTO message_system VALUES (?, ?)', system],
    ['INSERT INTO message_location VALUES (?, ?, ?, ?)', located],
  ]);
  // Names with line breaks and only spaces: cleaned alike on both paths.
  sqlite(join(wa, 'Databases', 'wa.db'), WA_DB_SCHEMA, [['INSERT INTO wa_contacts (jid, is_whatsapp_user, display_name, wa_name) VALUES (?, 1, ?, ?)', [
    ['491111@s.whatsapp.net', 'Anna\nExample', null], ['492222@s.whatsapp.net', null, 'Bob B.'], ['493333@s.whatsapp.net', '   ', null],
  ]]]);
  mkdirSync(join(wa, 'Media', 'WhatsApp Images'), { recursive: true });
  writeFileSync(join(wa, 'Media', 'WhatsApp Images', 'IMG-1.jpg'), 'hello');

  const { bulk, catalog } = await bothWays(t, wa);
  // The database really holds what the comparison is about.
  assert.equal(bulk.counts.chats, 3);
  assert.ok(bulk.counts.messages > 59_000, `messages: ${bulk.counts.messages}`);
  // Every fifth message has media; a few of those messages are not imported (no such chat).
  assert.ok(bulk.counts.media > 11_900 && bulk.counts.media <= 12_000, `media: ${bulk.counts.media}`);
  const where = new Set(bulk.unknown.map((u) => u.where));
  for (const w of ['message.chat_row_id', 'message.message_type', 'message.timestamp', 'message_system.action_type']) assert.ok(where.has(w), `reported: ${w}`);
  assert.ok((catalog.fts as number) > 50_000);
});

test('bulk and row loop agree on the shared Android fixture', { skip: android.skip }, async (t) => {
  await bothWays(t, android.path);
});

test('bulk and row loop agree on a database with only the message and chat tables, and on an empty one', async (t) => {
  const dir = tempDir(t);
  const bare = join(dir, 'bare', 'msgstore.db');
  sqlite(bare, 'CREATE TABLE chat (_id INTEGER PRIMARY KEY, jid_row_id INTEGER); CREATE TABLE message (_id INTEGER PRIMARY KEY, chat_row_id INTEGER, from_me INTEGER, sender_jid_row_id INTEGER, timestamp INTEGER, message_type INTEGER, text_data TEXT);', [
    ['INSERT INTO chat VALUES (?, ?)', [[1, null]]],
    ['INSERT INTO message VALUES (?, ?, ?, ?, ?, ?, ?)', [[1, 1, 0, null, T, 0, 'hello bare'], [2, 1, 1, null, T + 1, 1, null], [3, 1, 0, null, T + 2, 7, null]]],
  ]);
  const { bulk } = await bothWays(t, bare);
  assert.equal(bulk.counts.messages, 3);
  const empty = join(dir, 'empty', 'msgstore.db');
  sqlite(empty, MODERN_SCHEMA, [['INSERT INTO chat (_id, jid_row_id) VALUES (?, ?)', [[1, null]]], ['INSERT INTO message (_id, chat_row_id, from_me, key_id) VALUES (?, ?, ?, ?)', [[1, -1, 0, '-1']]]]);
  assert.equal((await bothWays(t, empty)).bulk.counts.messages, 0);
});
