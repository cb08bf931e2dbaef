import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { openCatalog } from '../../../src/core/catalog/catalog.js';
import { ChatsafeError } from '../../../src/core/errors.js';
import { detectSource } from '../../../src/core/importers/detect.js';
import { buildCatalog } from '../../../src/core/importers/import.js';
import { loadWhatsAppKey, parseWhatsAppKey } from '../../../src/core/importers/whatsapp-crypt/index.js';
import { fixture } from '../../helpers/fixtures.js';
import { MODERN_SCHEMA, sqlite, tempDir, treeDigest, WA_DB_SCHEMA } from './helpers.js';

const android = fixture('whatsapp-android/test_msgstore.db');
const waDb = fixture('whatsapp-android/test_wa.db');
const cryptPlain = fixture('whatsapp-crypt/msgstore.db');
const crypt15 = fixture('whatsapp-crypt/msgstore.db.crypt15');
const crypt14 = fixture('whatsapp-crypt/msgstore.db.crypt14');
const TYPED_KEY = '6730a595a1484d0c39c101dc0ac82ec5e401bb6f0e1b8ee2dc104a6b3687f017';

/** A WhatsApp folder as the phone has it: Databases/msgstore.db, Databases/wa.db, Media/... */
function whatsappFolder(root: string): string {
  const wa = join(root, 'WhatsApp');
  mkdirSync(join(wa, 'Databases'), { recursive: true });
  cpSync(android.path, join(wa, 'Databases', 'msgstore.db'));
  cpSync(waDb.path, join(wa, 'Databases', 'wa.db'));
  mkdirSync(join(wa, 'Media', 'WhatsApp Images', 'Sent'), { recursive: true });
  writeFileSync(join(wa, 'Media', 'WhatsApp Images', 'Sent', 'IMG-20181127-WA0025.jpg'), 'not really a jpeg');
  return wa;
}

test('shared Android fixture: 8 chats, 62 message rows (61 messages and WhatsApp placeholder row), names from wa.db', { skip: android.skip || waDb.skip }, async (t) => {
  const dir = tempDir(t);
  const wa = whatsappFolder(dir);
  const before = treeDigest(wa);
  const det = await detectSource(wa);
  assert.equal(det.kind, 'whatsapp-android');
  assert.equal(det.counts.chats, 8);
  assert.equal(det.counts.messages, 61);
  assert.equal(det.counts.mediaFiles, 1);
  assert.equal(det.keyFiles.main, 'WhatsApp/Databases/msgstore.db');
  assert.equal(det.keyFiles.contacts, 'WhatsApp/Databases/wa.db');
  assert.match(det.summary, /^WhatsApp Android database: 8 chats, 61 messages, 1 media file, /);
  assert.equal(typeof det.details.mediaReferences, 'number');
  // A backup asks for the summary alone: the same counts, without the scan of every media reference.
  const brief = await detectSource(wa, { details: false });
  assert.deepEqual(brief.counts, det.counts);
  assert.equal(brief.summary, det.summary);
  assert.equal('mediaReferences' in brief.details, false);

  const rows = new Database(android.path, { readonly: true });
  // The table has 62 rows; row _id 1 is WhatsApp's placeholder (chat_row_id -1), not a message.
  assert.equal((rows.prepare('SELECT count(*) AS n FROM message').get() as { n: number }).n, 62);
  rows.close();

  const report = await buildCatalog(wa, join(dir, 'catalog.db'));
  assert.deepEqual(report.counts, { chats: 8, messages: 61, media: 5, calls: 35, reactions: 0 });
  assert.deepEqual(report.unknown, []);
  const cat = openCatalog(join(dir, 'catalog.db'));
  t.after(() => cat.close());
  const chats = cat.listChats();
  assert.equal(chats.length, 8);
  assert.equal(chats.reduce((s, c) => s + c.messageCount, 0), 61);
  const names = chats.map((c) => c.name).sort();
  assert.deepEqual(names, ['Aenean lobortis', 'Cenhelm Baines', 'Cras vel ligula leo', 'Jindra Otto', 'Josefína Šimunović', 'Sung-Soo Kyler', 'Tadgán Houtman', 'Vivamus bibendum']);
  // Chat 533 of expected_export_to_json_chat.json (jid 997863428668) has its contact name from wa.db.
  const chat533 = chats.find((c) => c.name === 'Sung-Soo Kyler')!;
  assert.equal(chat533.kind, 'direct');
  const msgs = cat.listMessages(chat533.id, { limit: 10 });
  assert.deepEqual(
    msgs.map((m) => [m.id, m.sender, m.timestamp, m.kind, m.text]),
    [
      [158352, 'You', 1543317689876, 'image', 'Nulla scelerisque leo augue, sit amet ullamcorper est aliquet sed!! 😂'],
      [158353, 'You', 1543317698845, 'text', 'Fusce mollis libero!!'],
      [158357, 'You', 1543318731818, 'image', null],
    ],
  );
  // The one media file present is linked, hashed and named as the snapshot names it.
  assert.deepEqual(msgs[0]!.media, {
    path: 'WhatsApp/Media/WhatsApp Images/Sent/IMG-20181127-WA0025.jpg',
    name: 'IMG-20181127-WA0025.jpg',
    mime: 'image/jpeg',
    size: 17,
    sha256: createHash('sha256').update('not really a jpeg').digest('hex'),
  });
  assert.equal(msgs[2]!.media!.path, null, 'a file that is not in the source has no snapshot path');
  // Group messages carry the member's name from wa.db.
  const group = chats.find((c) => c.name === 'Vivamus bibendum')!;
  assert.equal(group.kind, 'group');
  const gm = cat.listMessages(group.id, { limit: 100 });
  assert.equal(gm.length, 15);
  assert.ok(gm.some((m) => m.sender === 'Oddbjørn Marques'));
  assert.ok(group.participants.includes('Izebel Bengtsdotter'));
  // Locations become text with coordinates.
  const loc = cat.message(158394)!;
  assert.equal(loc.kind, 'location');
  assert.match(loc.text!, /65\.754409, -168\.924534/);
  assert.equal(cat.counts().calls, 35);
  assert.deepEqual(treeDigest(wa), before, 'the input folder is unchanged, with no new files');
});

test('the crypt fixture database holds legacy rows only: they are imported, the newer table is mentioned', { skip: cryptPlain.skip }, async (t) => {
  const dir = tempDir(t);
  const det = await detectSource(cryptPlain.path);
  assert.equal(det.details.schema, 'legacy');
  assert.equal(det.counts.messages, 9);
  const report = await buildCatalog(cryptPlain.path, join(dir, 'c.db'));
  assert.equal(report.counts.messages, 9);
  assert.equal(report.counts.chats, 1);
  // These status updates carry timestamp 0: counted as not understood, not dropped.
  assert.deepEqual(report.unknown.map((u) => [u.where, u.count]), [['messages.timestamp', 9]]);
  const cat = openCatalog(join(dir, 'c.db'));
  t.after(() => cat.close());
  const [chat] = cat.listChats();
  assert.equal(chat!.kind, 'status');
  const msgs = cat.listMessages(chat!.id);
  assert.deepEqual(msgs.map((m) => m.kind), ['image', 'video', 'image', 'image', 'image', 'image', 'video', 'video', 'video']);
  assert.deepEqual(msgs[0]!.media, { path: null, name: null, mime: 'image/jpeg', size: 240653, sha256: null });
});

test('crypt15 with the typed key and with encrypted_backup.key, crypt14 with key, give the plain database catalog', { skip: crypt15.skip || crypt14.skip || cryptPlain.skip }, async (t) => {
  const dir = tempDir(t);
  await buildCatalog(cryptPlain.path, join(dir, 'plain.db'));
  const expected = openCatalog(join(dir, 'plain.db'));
  t.after(() => expected.close());
  const want = expected.listMessages(1, { limit: 100 });
  const cases: [string, string, Promise<ReturnType<typeof parseWhatsAppKey>> | ReturnType<typeof parseWhatsAppKey>][] = [
    ['typed', crypt15.path, parseWhatsAppKey(TYPED_KEY)],
    ['keyfile15', crypt15.path, loadWhatsAppKey(fixture('whatsapp-crypt/encrypted_backup.key').path)],
    ['keyfile14', crypt14.path, loadWhatsAppKey(fixture('whatsapp-crypt/key').path)],
  ];
  for (const [name, file, key] of cases) {
    const det = await detectSource(file);
    assert.equal(det.kind, 'whatsapp-android-crypt');
    const report = await buildCatalog(file, join(dir, `${name}.db`), { waKey: await key });
    assert.equal(report.kind, 'whatsapp-android-crypt');
    const got = openCatalog(join(dir, `${name}.db`));
    assert.deepEqual(got.listMessages(1, { limit: 100 }), want, name);
    got.close();
  }
  await assert.rejects(buildCatalog(crypt15.path, join(dir, 'nokey.db')), (e: ChatsafeError) => e.kind === 'usage' && /encrypted/.test(e.message));
  assert.equal(existsSync(join(dir, 'nokey.db')), false);
});

test('generated modern database: replies, reactions, @lid senders, system events, revoked, unknown types and columns', async (t) => {
  const dir = tempDir(t);
  const wa = join(dir, 'WhatsApp');
  const T = 1_700_000_000_000;
  sqlite(join(wa, 'Databases', 'msgstore.db'), `${MODERN_SCHEMA} ALTER TABLE message ADD COLUMN future_col TEXT;`, [
    ['INSERT INTO jid (_id, user, server, type, raw_string) VALUES (?, ?, ?, 0, ?)', [
      [1, '491111', 's.whatsapp.net', '491111@s.whatsapp.net'],
      [2, '492222', 's.whatsapp.net', '492222@s.whatsapp.net'],
      [3, '491111-1600000000', 'g.us', '491111-1600000000@g.us'],
      [4, '12345', 'lid', '12345@lid'],
    ]],
    ['INSERT INTO jid_map VALUES (?, ?)', [[4, 2]]],
    ['INSERT INTO chat (_id, jid_row_id, subject) VALUES (?, ?, ?)', [[10, 1, null], [11, 3, 'Climbing']]],
    ['INSERT INTO message (_id, chat_row_id, from_me, key_id, sender_jid_row_id, timestamp, message_type, text_data, future_col) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)', [
      [1, -1, 0, '-1', null, null, -1, null, null],
      [100, 10, 0, 'K100', 0, T, 0, 'Hello from Anna', null],
      [101, 10, 1, 'K101', 0, T + 1000, 0, 'Hi! Replying', null],
      [102, 10, 0, 'K102', 0, T + 2000, 1, 'a caption', null],
      [103, 11, 1, 'K103', 0, T + 3000, 7, null, null],
      [104, 11, 0, 'K104', 4, T + 4000, 0, 'sent with a lid', 'x'],
      [105, 11, 0, 'K105', 2, T + 5000, 99, 'from the future', null],
      [106, 11, 0, 'K106', 2, T + 6000, 15, null, null],
      [107, 11, 0, 'K107', 2, 5, 0, 'bad time', null],
    ]],
    ['INSERT INTO message_media (message_row_id, chat_row_id, file_path, file_size, mime_type) VALUES (?, ?, ?, ?, ?)', [[102, 10, 'Media/WhatsApp Images/IMG-1.jpg', 5, 'image/jpeg']]],
    ['INSERT INTO message_quoted (message_row_id, chat_row_id, parent_message_chat_row_id, from_me, key_id) VALUES (?, ?, ?, ?, ?)', [[101, 10, 10, 0, 'K100']]],
    ['INSERT INTO message_add_on (_id, chat_row_id, from_me, key_id, sender_jid_row_id, parent_message_row_id, timestamp, message_add_on_type) VALUES (?, ?, ?, ?, ?, ?, ?, 56)', [[1, 10, 0, 'R1', 2, 100, T + 500], [2, 10, 0, 'R2', 2, 101, T + 600]]],
    ['INSERT INTO message_add_on_reaction VALUES (?, ?, ?)', [[1, '👍', T + 500], [2, '', T + 600]]],
    ['INSERT INTO message_system VALUES (?, ?)', [[103, 11]]],
    ['INSERT INTO message_revoked VALUES (?, ?, ?)', [[106, 'K106', null]]],
    ['INSERT INTO call_log (jid_row_id, from_me, call_id, timestamp, video_call, duration, call_result) VALUES (?, ?, ?, ?, ?, ?, ?)', [[1, 1, 'c1', T + 9000, 1, 30, 5], [1, 0, 'c2', T + 9500, 0, 0, 2]]],
    ['INSERT INTO group_participants (gjid, jid, admin) VALUES (?, ?, ?)', [['491111-1600000000@g.us', '491111@s.whatsapp.net', 1], ['491111-1600000000@g.us', '', 0]]],
  ]);
  sqlite(join(wa, 'Databases', 'wa.db'), WA_DB_SCHEMA, [['INSERT INTO wa_contacts (jid, is_whatsapp_user, display_name, wa_name) VALUES (?, 1, ?, ?)', [['491111@s.whatsapp.net', 'Anna Example', null], ['492222@s.whatsapp.net', null, 'Bob B.']]]]);
  mkdirSync(join(wa, 'Media', 'WhatsApp Images'), { recursive: true });
  writeFileSync(join(wa, 'Media', 'WhatsApp Images', 'IMG-1.jpg'), 'hello');
  const report = await buildCatalog(wa, join(dir, 'cat.db'));
  assert.deepEqual(report.counts, { chats: 2, messages: 8, media: 1, calls: 2, reactions: 1 });
  assert.deepEqual(
    report.unknown.map((u) => [u.where, u.value, u.count, u.examples]).sort(),
    [
      ['message column not read', 'future_col', 1, ['rows with a value']],
      ['message.message_type', '99', 1, ['105']],
      ['message.timestamp', 'not a valid time', 1, ['107']],
    ],
  );
  const cat = openCatalog(join(dir, 'cat.db'));
  t.after(() => cat.close());
  const chats = cat.listChats();
  assert.deepEqual(chats.map((c) => [c.name, c.kind, c.messageCount, c.participants]), [
    ['Climbing', 'group', 5, ['Anna Example', 'You']],
    ['Anna Example', 'direct', 3, ['Anna Example']],
  ]);
  const direct = cat.listMessages(chats[1]!.id);
  assert.deepEqual(direct.map((m) => [m.id, m.sender, m.fromMe, m.timestamp, m.kind, m.text, m.replyTo, m.reactions.map((r) => `${r.sender}:${r.emoji}`)]), [
    [100, 'Anna Example', false, T, 'text', 'Hello from Anna', null, ['Bob B.:👍']],
    [101, 'You', true, T + 1000, 'text', 'Hi! Replying', 100, []],
    [102, 'Anna Example', false, T + 2000, 'image', 'a caption', null, []],
  ]);
  assert.deepEqual(direct[2]!.media, { path: 'WhatsApp/Media/WhatsApp Images/IMG-1.jpg', name: 'IMG-1.jpg', mime: 'image/jpeg', size: 5, sha256: createHash('sha256').update('hello').digest('hex') });
  const group = cat.listMessages(chats[0]!.id);
  assert.deepEqual(group.map((m) => [m.id, m.sender, m.kind, m.text, m.deleted]), [
    [107, 'Bob B.', 'text', 'bad time', false],
    [103, null, 'system', 'Group created', false],
    [104, 'Bob B.', 'text', 'sent with a lid', false],
    [105, 'Bob B.', 'unknown', 'from the future', false],
    [106, 'Bob B.', 'deleted', null, true],
  ]);
  assert.deepEqual(cat.calls().map((c) => [c.peer, c.fromMe, c.durationSeconds, c.video, c.result, c.chatId]), [
    ['Anna Example', true, 30, true, 'answered', chats[1]!.id],
    ['Anna Example', false, 0, false, 'not answered', chats[1]!.id],
  ]);
  // Paging: after/before/limit.
  assert.deepEqual(cat.listMessages(chats[1]!.id, { after: T, limit: 1 }).map((m) => m.id), [101]);
  assert.deepEqual(cat.listMessages(chats[1]!.id, { before: T + 2000, limit: 1 }).map((m) => m.id), [101]);
  assert.deepEqual(cat.search('anna').map((h) => h.messageId), [100]);
});

test('generated legacy database (messages keyed by key_remote_jid) with chat_list subjects and quoted replies', async (t) => {
  const dir = tempDir(t);
  const db = join(dir, 'msgstore.db');
  const T = 1_500_000_000_000;
  sqlite(db, `
    CREATE TABLE messages (_id INTEGER PRIMARY KEY AUTOINCREMENT, key_remote_jid TEXT NOT NULL, key_from_me INTEGER, key_id TEXT NOT NULL, status INTEGER, data TEXT, timestamp INTEGER,
      media_mime_type TEXT, media_wa_type TEXT, media_size INTEGER, media_name TEXT, media_caption TEXT, latitude REAL, longitude REAL, remote_resource TEXT, quoted_row_id INTEGER, forwarded INTEGER, edit_version INTEGER);
    CREATE TABLE messages_quotes (_id INTEGER PRIMARY KEY AUTOINCREMENT, key_remote_jid TEXT, key_from_me INTEGER, key_id TEXT, data TEXT);
    CREATE TABLE chat_list (_id INTEGER PRIMARY KEY AUTOINCREMENT, key_remote_jid TEXT UNIQUE, subject TEXT);`, [
    ['INSERT INTO chat_list (key_remote_jid, subject) VALUES (?, ?)', [['4930-1400000000@g.us', 'Family'], ['491700001@s.whatsapp.net', null]]],
    ['INSERT INTO messages_quotes (_id, key_remote_jid, key_from_me, key_id, data) VALUES (?, ?, ?, ?, ?)', [[1, '4930-1400000000@g.us', 0, 'A1', 'Dinner?']]],
    ['INSERT INTO messages (_id, key_remote_jid, key_from_me, key_id, status, data, timestamp, media_wa_type, media_mime_type, media_name, media_caption, latitude, longitude, remote_resource, quoted_row_id, forwarded) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)', [
      [1, '-1', 0, '-1', -1, null, 0, '-1', null, null, null, null, null, null, null, null],
      [2, '4930-1400000000@g.us', 0, 'A1', 0, 'Dinner?', T, '0', null, null, null, 0, 0, '491700002@s.whatsapp.net', 0, 0],
      [3, '4930-1400000000@g.us', 1, 'A2', 13, 'Yes', T + 1000, '0', null, null, null, 0, 0, null, 1, 0],
      [4, '4930-1400000000@g.us', 0, 'A3', 6, null, T + 2000, '0', null, null, null, 0, 0, null, 0, 0],
      [5, '491700001@s.whatsapp.net', 0, 'B1', 0, null, T + 3000, '1', 'image/jpeg', 'IMG-2.jpg', 'look', 0, 0, null, 0, 1],
      [6, '491700001@s.whatsapp.net', 0, 'B2', 0, null, T + 4000, '5', null, null, null, 52.5, 13.4, null, 0, 0],
    ]],
  ]);
  const report = await buildCatalog(db, join(dir, 'cat.db'));
  assert.deepEqual(report.counts, { chats: 2, messages: 5, media: 1, calls: 0, reactions: 0 });
  const cat = openCatalog(join(dir, 'cat.db'));
  t.after(() => cat.close());
  assert.equal(cat.meta('source_schema'), 'whatsapp-android-legacy');
  const chats = cat.listChats();
  assert.deepEqual(chats.map((c) => [c.name, c.kind]), [['+491700001', 'direct'], ['Family', 'group']]);
  assert.deepEqual(cat.listMessages(chats[1]!.id).map((m) => [m.id, m.sender, m.kind, m.text, m.replyTo]), [
    [2, '+491700002', 'text', 'Dinner?', null],
    [3, 'You', 'text', 'Yes', 2],
    [4, null, 'system', 'System event', null],
  ]);
  assert.deepEqual(cat.listMessages(chats[0]!.id).map((m) => [m.kind, m.text, m.forwardedFrom, m.media?.name ?? null]), [
    ['image', 'look', 'forwarded', 'IMG-2.jpg'],
    ['location', '📍 52.500000, 13.400000', null, null],
  ]);
});

test('truncated, corrupt and wrongly-typed databases give a clear error naming the file, and no catalog', { skip: android.skip }, async (t) => {
  const dir = tempDir(t);
  const truncated = join(dir, 'msgstore.db');
  cpSync(android.path, truncated);
  truncateSync(truncated, 50_000);
  await assert.rejects(buildCatalog(truncated, join(dir, 'a.db')), (e: ChatsafeError) => e instanceof ChatsafeError && e.message.includes(truncated) && e.kind === 'integrity');
  const corrupt = join(dir, 'corrupt', 'msgstore.db');
  mkdirSync(join(dir, 'corrupt'));
  const bytes = readFileSync(android.path);
  bytes.fill(0x41, 4096, 4096 * 40);
  writeFileSync(corrupt, bytes);
  await assert.rejects(buildCatalog(corrupt, join(dir, 'b.db')), (e: ChatsafeError) => e instanceof ChatsafeError && e.message.includes('msgstore.db'));
  const notDb = join(dir, 'typed', 'msgstore.db');
  mkdirSync(join(dir, 'typed'));
  writeFileSync(notDb, 'hello, I am text');
  const det = await detectSource(notDb);
  assert.equal(det.kind, 'unknown');
  await assert.rejects(buildCatalog(notDb, join(dir, 'c.db')), (e: ChatsafeError) => e.kind === 'unsupported' && e.message.includes('msgstore.db'));
  // Nothing half-written: no catalog and no temporary file left behind.
  assert.deepEqual(readdirSync(dir).sort(), ['corrupt', 'msgstore.db', 'typed']);
  assert.ok(statSync(truncated).size === 50_000);
});

test('a cancelled import throws CancelledError and leaves no catalog or temporary file', { skip: android.skip }, async (t) => {
  const dir = tempDir(t);
  const controller = new AbortController();
  controller.abort();
  await assert.rejects(buildCatalog(android.path, join(dir, 'cat.db'), { signal: controller.signal }), (e: ChatsafeError) => e.kind === 'cancelled');
  assert.deepEqual(readdirSync(dir), []);
});

test('a WhatsApp folder whose msgstore.db is truncated is still recognised, and the import names the damaged file', { skip: android.skip }, async (t) => {
  const dir = tempDir(t);
  const db = join(dir, 'WhatsApp', 'Databases', 'msgstore.db');
  mkdirSync(join(dir, 'WhatsApp', 'Databases'), { recursive: true });
  cpSync(android.path, db);
  truncateSync(db, 8192);
  const det = await detectSource(join(dir, 'WhatsApp'));
  assert.equal(det.kind, 'whatsapp-android');
  assert.ok(det.problems.some((p) => p.includes(db)), det.problems.join('\n'));
  await assert.rejects(buildCatalog(join(dir, 'WhatsApp'), join(dir, 'cat.db')), (e: ChatsafeError) => e.kind === 'integrity' && e.message.includes(db));
  assert.deepEqual(readdirSync(dir), ['WhatsApp']);
});

test('a view named like a table the importer reads is not read: a database whose `message` is an endless query is not taken for an export', async (t) => {
  const dir = tempDir(t);
  const db = join(dir, 'WhatsApp', 'Databases', 'msgstore.db');
  mkdirSync(join(dir, 'WhatsApp', 'Databases'), { recursive: true });
  const h = new Database(db);
  h.exec(`CREATE TABLE jid (_id INTEGER PRIMARY KEY, user TEXT, server TEXT, raw_string TEXT);
    CREATE TABLE chat (_id INTEGER PRIMARY KEY, jid_row_id INTEGER);
    CREATE VIEW message AS WITH RECURSIVE c(x) AS (SELECT 2 UNION ALL SELECT x + 1 FROM c) SELECT x AS _id, x AS chat_row_id FROM c;`);
  h.close();
  // Before, counting the view's rows ran inside SQLite until the process was killed.
  const det = await detectSource(join(dir, 'WhatsApp'));
  assert.notEqual(det.kind, 'whatsapp-android', JSON.stringify(det));
});

test('a database in an export folder that is a link to a file elsewhere is not read: the backup keeps the link, not that file', async (t) => {
  const dir = tempDir(t);
  const elsewhere = join(dir, 'elsewhere.db');
  sqlite(elsewhere, MODERN_SCHEMA, [
    ["INSERT INTO jid (_id, user, server, type, raw_string) VALUES (1, '491111', 's.whatsapp.net', 0, '491111@s.whatsapp.net')", [[]]],
    ['INSERT INTO chat (_id, jid_row_id) VALUES (10, 1)', [[]]],
  ]);
  mkdirSync(join(dir, 'WhatsApp', 'Databases'), { recursive: true });
  symlinkSync(elsewhere, join(dir, 'WhatsApp', 'Databases', 'msgstore.db'));
  const det = await detectSource(join(dir, 'WhatsApp'));
  assert.notEqual(det.kind, 'whatsapp-android', JSON.stringify(det));
});
