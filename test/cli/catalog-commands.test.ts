/**
 * Browsing a backup without restoring it, through the real CLI: a backup of
 * a recognised export stores its chat catalog, and `chats`, `messages`,
 * `search` and `export-html` read it (media from inside an export zip too).
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { describeRun, runCli, withTempDir } from '../helpers/cli.js';
import { fixture } from '../helpers/fixtures.js';
import { makeZip, MODERN_SCHEMA, sqlite, tempDir as tempDirFor } from '../core/importers/helpers.js';

const db = fixture('whatsapp-android/test_msgstore.db');
const wa = fixture('whatsapp-android/test_wa.db');

test('a WhatsApp Android backup can be listed, read, searched and exported without restoring', { skip: db.skip || wa.skip }, async () => {
  await withTempDir('chatsafe-catalog-cli-', async (dir) => {
    mkdirSync(join(dir, 'WhatsApp', 'Databases'), { recursive: true });
    copyFileSync(db.path, join(dir, 'WhatsApp', 'Databases', 'msgstore.db'));
    copyFileSync(wa.path, join(dir, 'WhatsApp', 'Databases', 'wa.db'));
    const repo = join(dir, 'repo');
    const keyArgs = ['--repo', repo, '--key-file', join(dir, 'key')];
    assert.equal((await runCli(['init', '--repo', repo, '--key-file', join(dir, 'key')])).code, 0);
    const b = await runCli(['backup', ...keyArgs, join(dir, 'WhatsApp')]);
    assert.equal(b.code, 0, describeRun(b));
    assert.match(b.stderr, /WhatsApp Android database: 8 chats, 61 messages/);

    const chats = await runCli(['chats', ...keyArgs, '--json']);
    assert.equal(chats.code, 0, describeRun(chats));
    const list = JSON.parse(chats.stdout) as { id: number; name: string; kind: string; messageCount: number }[];
    assert.equal(list.length, 8);
    assert.ok(list.some((c) => c.name === 'Tadgán Houtman'), 'contact names come from wa.db');
    const busiest = [...list].sort((a, b) => b.messageCount - a.messageCount)[0]!;

    const msgs = await runCli(['messages', ...keyArgs, String(busiest.id), '--limit', '5', '--json']);
    assert.equal(msgs.code, 0, describeRun(msgs));
    const page = JSON.parse(msgs.stdout) as { id: number; sender: string | null; timestamp: number; kind: string; text: string | null }[];
    assert.equal(page.length, Math.min(5, busiest.messageCount));
    assert.ok(page.every((m, i) => i === 0 || m.timestamp >= page[i - 1]!.timestamp), 'in time order');
    assert.ok(page.every((m) => Number.isInteger(m.timestamp) && m.timestamp > Date.UTC(2018, 0, 1)));

    const search = await runCli(['search', ...keyArgs, 'Sed', '--json']);
    assert.equal(search.code, 0, describeRun(search));
    const hits = JSON.parse(search.stdout) as { snippet: string }[];
    assert.ok(hits.length > 0 && hits.every((h) => /sed/i.test(h.snippet)));

    const html = await runCli(['export-html', ...keyArgs, '--out', join(dir, 'html')]);
    assert.equal(html.code, 0, describeRun(html));
    const pages = readdirSync(join(dir, 'html')).filter((f) => f.endsWith('.html'));
    assert.ok(pages.length >= 8, pages.join(','));
    assert.ok(pages.some((p) => readFileSync(join(dir, 'html', p), 'utf8').includes('Tadgán Houtman')));

    // Backed up again unchanged: the catalog is reused, not rebuilt, and still answers.
    const again = await runCli(['backup', ...keyArgs, '--keep-last', '3', '--json', join(dir, 'WhatsApp')]);
    assert.equal(again.code, 0, describeRun(again));
    const report = JSON.parse(again.stdout) as { catalog: unknown; catalogSkipped: unknown; reusedFiles: number };
    assert.equal(report.catalog, null, 'no new import ran');
    assert.equal(report.catalogSkipped, null);
    const chats2 = await runCli(['chats', ...keyArgs, '--json']);
    assert.equal((JSON.parse(chats2.stdout) as unknown[]).length, 8);

    // A changed export is imported again.
    writeFileSync(join(dir, 'WhatsApp', 'Databases', 'notes.txt'), 'changed');
    const third = await runCli(['backup', ...keyArgs, '--keep-last', '3', '--json', join(dir, 'WhatsApp')]);
    assert.equal(third.code, 0, describeRun(third));
    assert.notEqual((JSON.parse(third.stdout) as { catalog: unknown }).catalog, null, 'the changed export was imported again');
  });
});

test('plain files are backed up too, and browsing them says there is no catalog', async () => {
  await withTempDir('chatsafe-catalog-cli-', async (dir) => {
    mkdirSync(join(dir, 'notes'));
    writeFileSync(join(dir, 'notes', 'a.txt'), 'just a note');
    const keyArgs = ['--repo', join(dir, 'repo'), '--key-file', join(dir, 'key')];
    await runCli(['init', '--repo', join(dir, 'repo'), '--key-file', join(dir, 'key')]);
    const b = await runCli(['backup', ...keyArgs, join(dir, 'notes')]);
    assert.equal(b.code, 0, describeRun(b));
    assert.match(b.stderr, /plain files/);
    const chats = await runCli(['chats', ...keyArgs]);
    assert.equal(chats.code, 1);
    assert.match(chats.stderr, /no chat catalog/);
  });
});

test('media inside an "Export chat" zip are exported from the backup', async () => {
  await withTempDir('chatsafe-catalog-cli-', async (dir) => {
    const photo = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(2000, 7)]);
    const chat = '\u200e[12.03.21, 10:15:00] Ana: hola\n[12.03.21, 10:16:00] Ana: \u200e<attached: 00000001-PHOTO-2021-03-12-10-16-00.jpg>\n';
    mkdirSync(join(dir, 'src'));
    writeFileSync(join(dir, 'src', 'WhatsApp Chat - Ana.zip'), makeZip([{ name: '_chat.txt', data: chat }, { name: '00000001-PHOTO-2021-03-12-10-16-00.jpg', data: photo }]));
    const zip = join(dir, 'src', 'WhatsApp Chat - Ana.zip');
    const keyArgs = ['--repo', join(dir, 'repo'), '--key-file', join(dir, 'key')];
    await runCli(['init', '--repo', join(dir, 'repo'), '--key-file', join(dir, 'key')]);
    const b = await runCli(['backup', ...keyArgs, zip]);
    assert.equal(b.code, 0, describeRun(b));
    const html = await runCli(['export-html', ...keyArgs, '--out', join(dir, 'html')]);
    assert.equal(html.code, 0, describeRun(html));
    const files: string[] = [];
    const walk = (d: string) => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        if (e.isDirectory()) walk(join(d, e.name));
        else files.push(join(d, e.name));
      }
    };
    walk(join(dir, 'html'));
    const exported = files.find((f) => f.endsWith('.jpg'));
    assert.ok(exported && existsSync(exported), `the photo was exported: ${files.join(', ')}`);
    assert.deepEqual(readFileSync(exported), photo);
  });
});

test('browsing refuses what it cannot answer: a chat the backup lacks, a query of no words, a time that is not one instant', async (t) => {
  const dir = tempDirFor(t);
  const wa = join(dir, 'WhatsApp');
  sqlite(join(wa, 'Databases', 'msgstore.db'), MODERN_SCHEMA, [
    ["INSERT INTO jid (_id, user, server, type, raw_string) VALUES (1, '491111', 's.whatsapp.net', 0, '491111@s.whatsapp.net')", [[]]],
    ['INSERT INTO chat (_id, jid_row_id) VALUES (10, 1)', [[]]],
    ['INSERT INTO message (_id, chat_row_id, from_me, key_id, sender_jid_row_id, timestamp, message_type, text_data) VALUES (?, 10, 0, ?, 0, ?, 0, ?)', [[1, 'K1', Date.UTC(2021, 2, 11), 'before'], [2, 'K2', Date.UTC(2021, 2, 13), 'after']]],
  ]);
  const keyArgs = ['--repo', join(dir, 'repo'), '--key-file', join(dir, 'key')];
  assert.equal((await runCli(['init', ...keyArgs])).code, 0);
  const b = await runCli(['backup', ...keyArgs, wa]);
  assert.equal(b.code, 0, describeRun(b));
  const [chat] = JSON.parse((await runCli(['chats', ...keyArgs, '--json'])).stdout) as { id: number }[];

  const missing = await runCli(['messages', ...keyArgs, String(chat!.id + 1000)]);
  assert.equal(missing.code, 1, describeRun(missing));
  assert.match(missing.stderr, /has no chat \d+/);
  for (const query of ['', '  ', '!?']) {
    const search = await runCli(['search', ...keyArgs, query]);
    assert.equal(search.code, 2, describeRun(search));
    assert.match(search.stderr, /no words/);
  }
  for (const when of ['March 12', '2021-03-12T10:15:00', '12/03/2021']) {
    const run = await runCli(['messages', ...keyArgs, String(chat!.id), '--after', when]);
    assert.equal(run.code, 2, describeRun(run));
  }
  const after = await runCli(['messages', ...keyArgs, String(chat!.id), '--after', '2021-03-12', '--json']);
  assert.equal(after.code, 0, describeRun(after));
  assert.deepEqual((JSON.parse(after.stdout) as { text: string }[]).map((m) => m.text), ['after']);
});
