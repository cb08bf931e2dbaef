import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { exportHtml, ftsQuery, openCatalog } from '../../../src/core/catalog/index.js';
import { CatalogWriter } from '../../../src/core/catalog/writer.js';
import { ChatsafeError } from '../../../src/core/errors.js';

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'chatsafe-cat-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const T = 1_700_000_000_000;

function sample(path: string): void {
  const w = new CatalogWriter(path);
  const chat = w.addChat({ kind: 'group', name: 'Friends <script>' });
  w.addParticipant(chat, { name: 'Ann' });
  w.addParticipant(chat, { name: 'Bo' });
  const a = w.addMessage({ chatId: chat, sender: 'Ann', fromMe: false, timestamp: T, kind: 'text', text: 'Café at noon? <b>"yes"</b>', sourceKey: 'k1' });
  w.addMessage({ chatId: chat, sender: 'You', fromMe: true, timestamp: T, kind: 'text', text: 'same millisecond, later id', replyToKey: 'k1' });
  const img = w.addMessage({ chatId: chat, sender: 'Bo', fromMe: false, timestamp: T + 1, kind: 'image', text: 'photo\u0000 with a NUL' });
  w.addMedia(img, { path: 'Friends/IMG-1.jpg', name: 'IMG-1.jpg', mime: 'image/jpeg', size: 3, sha256: 'ab'.repeat(32) });
  const gone = w.addMessage({ chatId: chat, sender: 'Bo', fromMe: false, timestamp: T + 2, kind: 'video', text: null });
  w.addMedia(gone, { path: null, name: 'VID-2.mp4', mime: 'video/mp4', size: 99, sha256: null });
  w.addReaction(a, { sender: 'Bo', emoji: '👍', timestamp: T + 5 });
  w.addMessage({ chatId: chat, sender: null, fromMe: false, timestamp: T + 3, kind: 'system', text: 'Bo left' });
  w.addMessage({ chatId: chat, sender: 'Ann', fromMe: false, timestamp: T + 4, kind: 'text', text: 'x'.repeat(70_000), replyTo: 424242 });
  w.addChat({ kind: 'direct', name: null, address: '+4912345' });
  w.finish();
}

test('writer: built in a temporary file, renamed when finished; replies by key resolved; dangling ids dropped; text cleaned', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'catalog.db');
  sample(path);
  assert.deepEqual(readdirSync(dir), ['catalog.db']);
  const cat = openCatalog(path);
  t.after(() => cat.close());
  assert.deepEqual(readdirSync(dir), ['catalog.db'], 'reading creates no -wal/-shm files');
  const chats = cat.listChats();
  assert.deepEqual(chats.map((c) => [c.name, c.kind, c.messageCount, c.lastMessageAt, c.participants]), [
    ['Friends <script>', 'group', 6, T + 4, ['Ann', 'Bo']],
    ['+4912345', 'direct', 0, null, []],
  ]);
  const msgs = cat.listMessages(chats[0]!.id);
  assert.deepEqual(msgs.map((m) => m.id), [1, 2, 3, 4, 5, 6]);
  assert.equal(msgs[1]!.replyTo, 1);
  assert.equal(msgs[5]!.replyTo, null, 'a reply to a message that is not in the catalog keeps no dangling id');
  assert.equal(msgs[2]!.text, 'photo with a NUL');
  assert.equal(msgs[5]!.text!.length, 65_537);
  assert.deepEqual(msgs[0]!.reactions, [{ sender: 'Bo', emoji: '👍', timestamp: T + 5 }]);
  // Paging through messages that share a timestamp neither skips nor repeats.
  const first = cat.messagesAfter(chats[0]!.id, null, 1);
  const second = cat.messagesAfter(chats[0]!.id, { timestamp: first[0]!.timestamp, id: first[0]!.id }, 1);
  assert.deepEqual([first[0]!.id, second[0]!.id], [1, 2]);
  assert.deepEqual(cat.listMessages(chats[0]!.id, { before: T + 3, limit: 2 }).map((m) => m.id), [3, 4]);
});

test('writer: pending media come back in the order added, page after page, while media rows are written meanwhile', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'catalog.db');
  const w = new CatalogWriter(path);
  const chat = w.addChat({ kind: 'direct', name: 'Ann' });
  // More than one page of pending rows, and enough writes to commit a batch in the middle of reading them back.
  const n = 25_001;
  for (let i = 0; i < n; i++) {
    const id = w.addMessage({ chatId: chat, sender: 'Ann', fromMe: false, timestamp: T + i, kind: 'image', text: null });
    w.addPendingMedia({ messageId: id, relPath: i % 7 === 0 ? null : `Media/${i}.jpg`, name: i % 5 === 0 ? null : `n${i}`, mime: i % 3 === 0 ? 'image/jpeg' : null, size: i % 11 === 0 ? null : i * 10 });
  }
  assert.equal(w.pendingMediaCount, n);
  let i = 0;
  for (const p of w.pendingMedia()) {
    assert.deepEqual(p, { messageId: i + 1, relPath: i % 7 === 0 ? null : `Media/${i}.jpg`, name: i % 5 === 0 ? null : `n${i}`, mime: i % 3 === 0 ? 'image/jpeg' : null, size: i % 11 === 0 ? null : i * 10 });
    w.addMedia(p.messageId, { path: p.relPath, name: p.name, mime: p.mime, size: p.size, sha256: null });
    i += 1;
  }
  assert.equal(i, n);
  w.finish();
  const db = new Database(path, { readonly: true });
  t.after(() => db.close());
  assert.equal((db.prepare('SELECT count(*) AS c FROM media').get() as { c: number }).c, n);
  assert.deepEqual(db.prepare('SELECT message_id, path, size FROM media WHERE message_id IN (1, 2, 25001) ORDER BY message_id').all(), [
    { message_id: 1, path: null, size: null },
    { message_id: 2, path: 'Media/1.jpg', size: 10 },
    { message_id: 25001, path: 'Media/25000.jpg', size: 250000 },
  ]);
});

test('writer: the bulk path cleans every sender, those given to names() once and any other on its row', (t) => {
  const dir = tempDir(t);
  const source = join(dir, 'source.db');
  const src = new Database(source);
  src.exec('CREATE TABLE m (id INTEGER PRIMARY KEY, sender, text)');
  const senders: unknown[] = ['Anna\nExample', '  padded  ', 'ctl\u0001name', 'x'.repeat(300), '   ', 'not declared\tat all', 'bad\u0000nul', 7, null];
  const insert = src.prepare('INSERT INTO m VALUES (?, ?, ?)');
  senders.forEach((s, i) => insert.run(i + 1, s, `text ${i}`));
  src.close();
  const path = join(dir, 'catalog.db');
  const w = new CatalogWriter(path);
  const chat = w.addChat({ kind: 'direct', name: 'Chat' });
  const bulk = w.bulkFrom(source);
  assert.ok(bulk);
  // Only some are declared: the others must still be cleaned, and alike.
  bulk.names(['Anna\nExample', '  padded  ', 'ctl\u0001name', 'x'.repeat(300), '   ']);
  const n = bulk.insertMessages(`SELECT id, ${chat} AS chat_id, sender, 0 AS from_me, 1700000000000 AS timestamp, 'text' AS kind, text, NULL AS reply_to, NULL AS forwarded_from, 0 AS edited, 0 AS deleted FROM src.m ORDER BY id`);
  assert.equal(n, senders.length);
  bulk.close();
  w.finish();
  const db = new Database(path, { readonly: true });
  t.after(() => db.close());
  const got = db.prepare('SELECT sender FROM messages ORDER BY id').pluck().all();
  assert.deepEqual(got, ['Anna Example', 'padded', 'ctlname', `${'x'.repeat(256)}…`, null, 'not declared at all', 'badnul', '7', null]);
});

test('writer: abort leaves nothing behind', (t) => {
  const dir = tempDir(t);
  const w = new CatalogWriter(join(dir, 'catalog.db'));
  w.addChat({ kind: 'direct', name: 'x' });
  w.abort();
  assert.deepEqual(readdirSync(dir), []);
});

test('search: words match as prefixes, accents folded, and any typed text is safe FTS syntax', (t) => {
  const dir = tempDir(t);
  sample(join(dir, 'c.db'));
  const cat = openCatalog(join(dir, 'c.db'));
  t.after(() => cat.close());
  assert.deepEqual(cat.search('cafe noo').map((h) => [h.messageId, h.chatName, h.snippet]), [[1, 'Friends <script>', '«Café» at «noon»? <b>"yes"</b>']]);
  for (const hostile of ['"', 'NEAR(a b', 'a OR', '*', 'AND AND', "'; DROP TABLE messages; --", '{col}:x', '']) {
    assert.doesNotThrow(() => cat.search(hostile), hostile);
  }
  assert.equal(ftsQuery('  '), null);
  assert.equal(ftsQuery('say "hi"'), '"say"* "hi"*');
});

test('openCatalog: missing, foreign and newer-version files get clear errors', (t) => {
  const dir = tempDir(t);
  assert.throws(() => openCatalog(join(dir, 'nope.db')), (e: ChatsafeError) => e.kind === 'not-found');
  writeFileSync(join(dir, 'text.db'), 'not sqlite at all, just text that is long enough to be a header');
  assert.throws(() => openCatalog(join(dir, 'text.db')), (e: ChatsafeError) => e.kind === 'integrity' && e.message.includes('text.db'));
  const future = join(dir, 'future.db');
  sample(future);
  const db = new Database(future);
  db.prepare("UPDATE meta SET value = '99' WHERE key = 'schema_version'").run();
  db.close();
  assert.throws(() => openCatalog(future), (e: ChatsafeError) => e.kind === 'unsupported' && /version 99/.test(e.message));
});

test('exportHtml: one escaped, script-free page per chat with its media beside it', async (t) => {
  const dir = tempDir(t);
  sample(join(dir, 'c.db'));
  const cat = openCatalog(join(dir, 'c.db'));
  t.after(() => cat.close());
  const asked: string[] = [];
  const out = join(dir, 'html');
  const res = await exportHtml(cat, out, async (p) => {
    asked.push(p);
    return p === 'Friends/IMG-1.jpg' ? Buffer.from('jpg') : null;
  });
  assert.deepEqual(res, { chats: 2, files: 4 });
  assert.deepEqual(asked, ['Friends/IMG-1.jpg']);
  assert.deepEqual(readdirSync(out).sort(), ['chat-1.html', 'chat-2.html', 'index.html', 'media']);
  assert.deepEqual(readFileSync(join(out, 'media', `${'ab'.repeat(32)}.jpg`), 'utf8'), 'jpg');
  const html = readFileSync(join(out, 'chat-1.html'), 'utf8');
  assert.ok(!/<script/i.test(html), 'no script element, even from a chat named <script>');
  assert.match(html, /Friends &lt;script&gt;/);
  assert.match(html, /Café at noon\? &lt;b&gt;&quot;yes&quot;&lt;\/b&gt;/);
  assert.match(html, /<img src="media\/a{1}b/);
  assert.match(html, /VID-2\.mp4 \(not in the backup\)/);
  assert.match(html, /Content-Security-Policy" content="default-src 'none'/);
  assert.match(html, /href="#m1"/, 'the reply links to the message it quotes');
  // A non-empty destination is refused; nothing is written into it.
  mkdirSync(join(dir, 'busy'));
  writeFileSync(join(dir, 'busy', 'keep.txt'), 'mine');
  await assert.rejects(exportHtml(cat, join(dir, 'busy'), async () => null), (e: ChatsafeError) => e.kind === 'conflict');
  assert.deepEqual(readdirSync(join(dir, 'busy')), ['keep.txt']);
  assert.deepEqual(readdirSync(dir).filter((n) => n.includes('partial')), []);
});

test('exportHtml: a catalog from someone else cannot write outside the export or put markup in the page', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'c.db');
  sample(path);
  // What a hostile backup's catalog can hold: a digest that climbs out of the media folder, and
  // (its columns being whatever it declares) text where the ids and times are numbers.
  const db = new Database(path);
  db.prepare('UPDATE media SET sha256 = ?').run('../../../escaped');
  db.close();
  const out = join(dir, 'html');
  let cat = openCatalog(path);
  await exportHtml(cat, out, async () => Buffer.from('payload'));
  cat.close();
  assert.deepEqual(readdirSync(dir).sort(), ['c.db', 'html'], 'nothing written beside the export');
  assert.deepEqual(readdirSync(join(out, 'media')), ['m3.jpg'], 'named by its message id instead');

  const hostile = join(dir, 'hostile.db');
  const h = new Database(hostile);
  h.exec(`CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
    INSERT INTO meta VALUES ('schema_version', '1');
    CREATE TABLE chats (id TEXT, kind TEXT, name TEXT, address TEXT, message_count INTEGER, last_message_at INTEGER);
    INSERT INTO chats VALUES ('../../../escaped', 'group', 'x', NULL, 1, NULL);
    CREATE TABLE participants (chat_id, name, address, is_admin);
    CREATE TABLE messages (id, chat_id, sender, from_me, timestamp, kind, text, reply_to, forwarded_from, edited, deleted, source_key);
    CREATE TABLE media (message_id, path, name, mime, size, sha256);
    CREATE TABLE reactions (message_id, sender, emoji, timestamp);`);
  h.close();
  cat = openCatalog(hostile);
  t.after(() => cat.close());
  await assert.rejects(exportHtml(cat, join(dir, 'html2'), async () => null), (e: ChatsafeError) => e.kind === 'integrity' && /where a number belongs/.test(e.message));
  assert.deepEqual(readdirSync(dir).sort(), ['c.db', 'hostile.db', 'html'], 'nothing left behind');
});
