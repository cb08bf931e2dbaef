import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { countFilesIn, scanSources } from '../../../src/core/backup/scan.js';
import Database from 'better-sqlite3';
import { detectSource } from '../../../src/core/importers/detect.js';
import { countAndroid } from '../../../src/core/importers/whatsapp-android.js';
import { walkTotals } from '../../../src/core/importers/walk.js';
import { MODERN_SCHEMA, sqlite, tempDir } from './helpers.js';

/** A WhatsApp folder with media in nested folders, an empty folder and a symlink the counts must not follow. */
function whatsappFolder(root: string): string {
  const wa = join(root, 'WhatsApp');
  mkdirSync(join(wa, 'Databases'), { recursive: true });
  sqlite(join(wa, 'Databases', 'msgstore.db'), MODERN_SCHEMA, [
    ['INSERT INTO jid (user, server, raw_string) VALUES (?, ?, ?)', [['491111', 's.whatsapp.net', '491111@s.whatsapp.net']]],
    ['INSERT INTO chat (jid_row_id) VALUES (?)', [[1]]],
    ['INSERT INTO message (chat_row_id, from_me, key_id, timestamp, message_type, text_data) VALUES (?, ?, ?, ?, ?, ?)', [[1, 0, 'k1', 1_700_000_000_000, 0, 'hello']]],
  ]);
  for (const [dir, files] of [
    ['Media/WhatsApp Images/Sent', ['IMG-1.jpg', 'IMG-2.jpg']],
    ['Media/WhatsApp Voice Notes/202547', ['PTT-1.opus']],
    ['Media/.Thumbs', ['t1', 't2', 't3']],
    ['Media/Empty', []],
  ] as const) {
    mkdirSync(join(wa, dir), { recursive: true });
    files.forEach((f, i) => writeFileSync(join(wa, dir, f), Buffer.alloc(1000 * (i + 1), 7)));
  }
  mkdirSync(join(root, 'elsewhere'));
  writeFileSync(join(root, 'elsewhere', 'big.bin'), Buffer.alloc(50_000));
  symlinkSync(join(root, 'elsewhere'), join(wa, 'Media', 'linked'));
  return wa;
}

test("a backup's detection counts from its own scan the same files and bytes as a walk of the export", async (t) => {
  const wa = whatsappFolder(tempDir(t));
  const scan = await scanSources([wa]);
  const walked = await detectSource(wa);
  const fromScan = await detectSource(wa, { countFiles: countFilesIn(scan) });
  assert.equal(walked.kind, 'whatsapp-android');
  assert.equal(walked.counts.mediaFiles, 6);
  assert.deepEqual(fromScan, walked);
  assert.equal(fromScan.totalFiles, scan.files);
  assert.equal(fromScan.totalBytes, scan.bytes);
});

test('counts from a scan: a sub-folder, a missing path, and a path outside the scan (walked instead)', async (t) => {
  const root = tempDir(t);
  const wa = whatsappFolder(root);
  const count = countFilesIn(await scanSources([wa]));
  assert.deepEqual(count(join(wa, 'Media', '.Thumbs')), { files: 3, bytes: 6000, truncated: false });
  assert.deepEqual(count(join(wa, 'Media', 'Empty')), { files: 0, bytes: 0, truncated: false });
  assert.deepEqual(count(join(wa, 'Nowhere')), walkTotals(join(wa, 'Nowhere')));
  assert.deepEqual(count(join(wa, 'Media', 'linked')), { files: 0, bytes: 0, truncated: false });
  // Outside every scanned root: counted by walking, so the answer is still right.
  assert.deepEqual(count(join(root, 'elsewhere')), { files: 1, bytes: 50_000, truncated: false });
  assert.deepEqual(count(root), walkTotals(root));
});

test("an Android database's chats count the chat rows that have messages, with msgstore's index on chat_row_id or without it", (t) => {
  const path = join(tempDir(t), 'msgstore.db');
  sqlite(path, MODERN_SCHEMA, [
    ['INSERT INTO chat (_id, jid_row_id) VALUES (?, ?)', [[1, null], [2, null], [3, null]]],
    // chat 3 has no message; chat 9 is no chat row (its message is reported, not made a chat)
    ['INSERT INTO message (chat_row_id, from_me, key_id, timestamp, message_type, text_data) VALUES (?, ?, ?, ?, ?, ?)', [[1, 0, 'a', 1_700_000_000_000, 0, 'x'], [1, 1, 'b', 1_700_000_000_001, 0, 'y'], [2, 0, 'c', 1_700_000_000_002, 0, 'z'], [9, 0, 'd', 1_700_000_000_003, 0, 'w']]],
  ]);
  const count = () => {
    const db = new Database(path, { readonly: true });
    try {
      return countAndroid(db);
    } finally {
      db.close();
    }
  };
  const withoutIndex = count();
  const db = new Database(path);
  db.exec('CREATE INDEX message_chat_id_index ON message (chat_row_id, _id)');
  db.close();
  const withIndex = count();
  assert.equal(withoutIndex?.chats, 2);
  assert.deepEqual(withIndex, withoutIndex);
});
