import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { collect, spawnCli } from '../helpers/cli.js';
import { fixture } from '../helpers/fixtures.js';
import { tempDir } from '../core/importers/helpers.js';

const android = fixture('whatsapp-android/test_msgstore.db');
const waDb = fixture('whatsapp-android/test_wa.db');

test('chatsafe detect: a WhatsApp folder, as a line and as JSON; the folder is left as it was', { skip: android.skip || waDb.skip }, async (t) => {
  const dir = tempDir(t);
  const wa = join(dir, 'WhatsApp');
  mkdirSync(join(wa, 'Databases'), { recursive: true });
  cpSync(android.path, join(wa, 'Databases', 'msgstore.db'));
  cpSync(waDb.path, join(wa, 'Databases', 'wa.db'));
  mkdirSync(join(wa, 'Media', 'WhatsApp Images'), { recursive: true });
  writeFileSync(join(wa, 'Media', 'WhatsApp Images', 'IMG-1.jpg'), 'x');
  const text = await collect(spawnCli(['detect', wa]));
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /^WhatsApp Android database: 8 chats, 61 messages, 1 media file, 1\.3 MB\n/);
  assert.match(text.stdout, /main: WhatsApp\/Databases\/msgstore\.db/);
  const json = await collect(spawnCli(['detect', wa, '--json']));
  assert.equal(json.code, 0, json.stderr);
  const report = JSON.parse(json.stdout);
  assert.equal(report.kind, 'whatsapp-android');
  assert.deepEqual(report.counts, { chats: 8, messages: 61, mediaFiles: 1 });
  assert.equal(report.totalFiles, 3);
  assert.deepEqual(readdirSync(join(wa, 'Databases')).sort(), ['msgstore.db', 'wa.db']);
});

test('chatsafe detect: unknown input exits 0 and says unknown; a missing path exits 2; bad options exit 2', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'notes.txt'), 'shopping list\nmilk\n');
  const unknown = await collect(spawnCli(['detect', join(dir, 'notes.txt'), '--json']));
  assert.equal(unknown.code, 0);
  assert.equal(JSON.parse(unknown.stdout).kind, 'unknown');
  const line = await collect(spawnCli(['detect', dir]));
  assert.equal(line.code, 0);
  assert.match(line.stdout, /^Unknown \(chatsafe-imp-test-\w+\): 1 file, 19 B\n/);
  const missing = await collect(spawnCli(['detect', join(dir, 'nope')]));
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /no such file or folder/);
  const bad = await collect(spawnCli(['detect', dir, '--frobnicate']));
  assert.equal(bad.code, 2);
});
