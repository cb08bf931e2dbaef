#!/usr/bin/env node
// Catalog build benchmark: generates a deterministic WhatsApp Android msgstore.db
// (modern schema) with N messages (default 1,000,000), builds the catalog in a
// child process (so its peak RSS is the build's alone), then times listing the
// chats and a page of 100 messages. Last line: one JSON object with the figures.
// Usage: npm run bench:catalog [-- --messages N] [--keep]
import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';

const { values } = parseArgs({ options: { messages: { type: 'string', default: '1000000' }, keep: { type: 'boolean', default: false } } });
const N = Number(values.messages);
const root = resolve(fileURLToPath(import.meta.url), '..', '..');
const dist = join(root, 'dist', 'src', 'core');

// Deterministic PRNG (mulberry32), so every run builds the same database.
function rng(seed) {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const WORDS = 'lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore magna aliqua ut enim ad minim veniam quis nostrud exercitation ullamco laboris nisi aliquip ex ea commodo consequat dinner tomorrow photo call later thanks 😂 👍 ok yes no maybe'.split(' ');

function generate(path) {
  const rand = rng(42);
  const db = new Database(path);
  db.pragma('journal_mode = OFF');
  db.pragma('synchronous = OFF');
  db.exec(`
    CREATE TABLE jid (_id INTEGER PRIMARY KEY AUTOINCREMENT, user TEXT NOT NULL, server TEXT NOT NULL, agent INTEGER, type INTEGER, raw_string TEXT, device INTEGER);
    CREATE TABLE chat (_id INTEGER PRIMARY KEY AUTOINCREMENT, jid_row_id INTEGER UNIQUE, hidden INTEGER, subject TEXT, created_timestamp INTEGER);
    CREATE TABLE message (_id INTEGER PRIMARY KEY AUTOINCREMENT, chat_row_id INTEGER NOT NULL, from_me INTEGER NOT NULL, key_id TEXT NOT NULL, sender_jid_row_id INTEGER, status INTEGER, timestamp INTEGER, received_timestamp INTEGER, message_type INTEGER, text_data TEXT, starred INTEGER, sort_id INTEGER NOT NULL DEFAULT 0);
    CREATE UNIQUE INDEX message_key_index on message (chat_row_id, from_me, key_id, sender_jid_row_id);
    CREATE TABLE message_media (message_row_id INTEGER PRIMARY KEY, chat_row_id INTEGER, file_path TEXT, file_size INTEGER, mime_type TEXT, file_length INTEGER, media_name TEXT);
    CREATE TABLE message_quoted (message_row_id INTEGER PRIMARY KEY AUTOINCREMENT, chat_row_id INTEGER NOT NULL, parent_message_chat_row_id INTEGER NOT NULL, from_me INTEGER NOT NULL, sender_jid_row_id INTEGER, key_id TEXT NOT NULL, timestamp INTEGER, message_type INTEGER, text_data TEXT);
    CREATE TABLE message_add_on (_id INTEGER PRIMARY KEY AUTOINCREMENT, chat_row_id INTEGER, from_me INTEGER, key_id TEXT NOT NULL, sender_jid_row_id INTEGER, parent_message_row_id INTEGER, timestamp INTEGER, status INTEGER, message_add_on_type INTEGER);
    CREATE TABLE message_add_on_reaction (message_add_on_row_id INTEGER PRIMARY KEY, reaction TEXT, sender_timestamp INTEGER);
    CREATE TABLE group_participants (_id INTEGER PRIMARY KEY AUTOINCREMENT, gjid TEXT NOT NULL, jid TEXT NOT NULL, admin INTEGER, pending INTEGER, sent_sender_key INTEGER);`);
  const CONTACTS = 500;
  const CHATS = 300;
  db.exec('BEGIN');
  const jid = db.prepare('INSERT INTO jid (_id, user, server, type, raw_string) VALUES (?, ?, ?, 0, ?)');
  for (let i = 1; i <= CONTACTS; i++) jid.run(i, `4915${String(i).padStart(8, '0')}`, 's.whatsapp.net', `4915${String(i).padStart(8, '0')}@s.whatsapp.net`);
  const chat = db.prepare('INSERT INTO chat (_id, jid_row_id, subject) VALUES (?, ?, ?)');
  const part = db.prepare('INSERT INTO group_participants (gjid, jid, admin) VALUES (?, ?, 0)');
  const isGroup = (c) => c % 5 === 0;
  for (let c = 1; c <= CHATS; c++) {
    if (isGroup(c)) {
      const g = `4915${String(c).padStart(8, '0')}-1600000000@g.us`;
      jid.run(CONTACTS + c, `4915${String(c).padStart(8, '0')}-1600000000`, 'g.us', g);
      chat.run(c, CONTACTS + c, `Group ${c}`);
      for (let k = 0; k < 8; k++) part.run(g, `4915${String(((c * 7 + k) % CONTACTS) + 1).padStart(8, '0')}@s.whatsapp.net`);
    } else chat.run(c, c, null);
  }
  const msg = db.prepare('INSERT INTO message (_id, chat_row_id, from_me, key_id, sender_jid_row_id, status, timestamp, message_type, text_data, sort_id) VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?, ?)');
  const media = db.prepare('INSERT INTO message_media (message_row_id, chat_row_id, file_path, file_size, mime_type) VALUES (?, ?, ?, ?, ?)');
  const quoted = db.prepare('INSERT INTO message_quoted (message_row_id, chat_row_id, parent_message_chat_row_id, from_me, key_id) VALUES (?, ?, ?, ?, ?)');
  const addOn = db.prepare('INSERT INTO message_add_on (_id, chat_row_id, from_me, key_id, sender_jid_row_id, parent_message_row_id, timestamp, message_add_on_type) VALUES (?, ?, 0, ?, ?, ?, ?, 56)');
  const reaction = db.prepare('INSERT INTO message_add_on_reaction VALUES (?, ?, ?)');
  const lastInChat = new Map();
  let ts = 1_500_000_000_000;
  let addOnId = 1;
  for (let i = 1; i <= N; i++) {
    // A few chats hold most messages, as on real phones.
    const c = 1 + Math.floor(CHATS * rand() ** 3);
    const fromMe = rand() < 0.4 ? 1 : 0;
    const sender = !fromMe && isGroup(c) ? 1 + Math.floor(rand() * CONTACTS) : 0;
    ts += 1 + Math.floor(rand() * 60_000);
    const len = 2 + Math.floor(rand() * 14);
    let text = '';
    for (let w = 0; w < len; w++) text += (w ? ' ' : '') + WORDS[Math.floor(rand() * WORDS.length)];
    const isMedia = rand() < 0.05;
    const id = i + 1;
    msg.run(id, c, fromMe, `K${id}`, sender, ts, isMedia ? 1 : 0, text, id);
    if (isMedia) media.run(id, c, `Media/WhatsApp Images/IMG-${id}.jpg`, 100_000, 'image/jpeg');
    const prev = lastInChat.get(c);
    if (prev && rand() < 0.02) quoted.run(id, c, c, prev.fromMe, `K${prev.id}`);
    if (prev && rand() < 0.01) {
      addOn.run(addOnId, c, `R${addOnId}`, 1 + Math.floor(rand() * CONTACTS), prev.id, ts);
      reaction.run(addOnId, '👍', ts);
      addOnId += 1;
    }
    lastInChat.set(c, { id, fromMe });
    if (i % 100_000 === 0) db.exec('COMMIT; BEGIN');
  }
  db.exec('COMMIT');
  db.close();
}

const work = mkdtempSync(join(tmpdir(), 'chatsafe-bench-catalog-'));
try {
  const src = join(work, 'WhatsApp', 'Databases');
  mkdirSync(src, { recursive: true });
  const dbPath = join(src, 'msgstore.db');
  let t0 = performance.now();
  generate(dbPath);
  const genSeconds = (performance.now() - t0) / 1000;
  console.log(`generated ${N.toLocaleString('en-US')} messages in ${genSeconds.toFixed(1)} s (${(statSync(dbPath).size / 1e6).toFixed(0)} MB)`);

  const catalogPath = join(work, 'catalog.db');
  const child = `
    const { buildCatalog } = await import(${JSON.stringify(join(dist, 'importers', 'import.js'))});
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const report = await buildCatalog(${JSON.stringify(join(work, 'WhatsApp'))}, ${JSON.stringify(catalogPath)});
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(c0);
    process.stdout.write(JSON.stringify({ seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, maxRssKiB: process.resourceUsage().maxRSS, counts: report.counts }));`;
  t0 = performance.now();
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', child], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) {
    console.error(r.stderr);
    process.exit(1);
  }
  const build = JSON.parse(r.stdout);
  const peakRssMiB = build.maxRssKiB / 1024;
  console.log(`catalog built in ${build.seconds.toFixed(1)} s (${build.cpuSeconds.toFixed(1)} s of CPU; load average ${loadavg()[0].toFixed(1)} on ${cpus().length} cores), peak RSS ${peakRssMiB.toFixed(0)} MiB (${build.counts.messages.toLocaleString('en-US')} messages, ${build.counts.chats} chats)`);

  const { openCatalog } = await import(join(dist, 'catalog', 'catalog.js'));
  const time = (fn) => {
    const s = performance.now();
    const v = fn();
    return [performance.now() - s, v];
  };
  const [openMs, cat] = time(() => openCatalog(catalogPath));
  const [listChatsMs, chats] = time(() => cat.listChats());
  const biggest = chats.reduce((a, b) => (b.messageCount > a.messageCount ? b : a));
  const [firstPageMs] = time(() => cat.listMessages(biggest.id, { limit: 100 }));
  const mid = cat.listMessages(biggest.id, { limit: 1, after: biggest.lastMessageAt - 30 * 86_400_000 })[0];
  const [pageAfterMs] = time(() => cat.listMessages(biggest.id, { after: mid.timestamp, limit: 100 }));
  const [lastPageMs] = time(() => cat.listMessages(biggest.id, { before: biggest.lastMessageAt + 1, limit: 100 }));
  const [searchMs, hits] = time(() => cat.search('dinner tomorrow', { limit: 50 }));
  cat.close();
  console.log(`open ${openMs.toFixed(1)} ms; list ${chats.length} chats ${listChatsMs.toFixed(1)} ms; page of 100 from a chat of ${biggest.messageCount.toLocaleString('en-US')}: first ${firstPageMs.toFixed(1)} ms, mid ${pageAfterMs.toFixed(1)} ms, newest ${lastPageMs.toFixed(1)} ms; search ${searchMs.toFixed(1)} ms (${hits.length} hits)`);
  const result = {
    bench: 'catalog-build',
    messages: N,
    buildSeconds: Number(build.seconds.toFixed(2)),
    buildCpuSeconds: Number(build.cpuSeconds.toFixed(2)),
    loadAverage: Number(loadavg()[0].toFixed(1)),
    peakRssMiB: Number(peakRssMiB.toFixed(1)),
    listChatsMs: Number(listChatsMs.toFixed(2)),
    pageOf100Ms: Number(Math.max(firstPageMs, pageAfterMs, lastPageMs).toFixed(2)),
    searchMs: Number(searchMs.toFixed(2)),
    catalogMB: Number((statSync(catalogPath).size / 1e6).toFixed(1)),
    pass: build.seconds < 60 && peakRssMiB < 300 && listChatsMs < 50 && Math.max(firstPageMs, pageAfterMs, lastPageMs) < 50,
  };
  console.log(JSON.stringify(result));
} finally {
  if (!values.keep) rmSync(work, { recursive: true, force: true });
  else console.error(`kept ${work}`);
}
