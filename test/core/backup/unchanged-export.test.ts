/**
 * A backup of a chat export in which nothing changed since its last snapshot takes that snapshot's
 * tree and catalog, storing nothing; any change (a mode too) makes it walk the export again, and so
 * does an index that no longer lists what the last snapshot needs.
 */
import assert from 'node:assert/strict';
import { chmodSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { importAndBackup } from '../../../src/core/backup/import-and-backup.js';
import { referencedPacks, verifySnapshot } from '../../../src/core/backup/verify.js';
import { checkRepository } from '../../../src/core/check/check.js';
import { isChatsafeError } from '../../../src/core/errors.js';
import type { JobProgress } from '../../../src/core/jobs/progress.js';
import { RootKey } from '../../../src/core/keys/root-key.js';
import { Repository } from '../../../src/core/repo/repository.js';
import { restore } from '../../../src/core/restore/restore.js';
import { applyRetention } from '../../../src/core/retention/retention.js';
import { LocalFolderBackend } from '../../../src/core/storage/local-folder.js';
import { MODERN_SCHEMA, sqlite, tempDir } from '../importers/helpers.js';

const FILES = ['Databases/msgstore.db', 'Media/WhatsApp Images/IMG-1.jpg', 'Media/WhatsApp Voice Notes/PTT-1.opus'];

/** A small WhatsApp Android export: a database of two messages, one with a photo, and a voice note. */
async function exportAndRepo(t: { after: (fn: () => void) => void }) {
  const dir = tempDir(t);
  const wa = join(dir, 'WhatsApp');
  mkdirSync(join(wa, 'Media', 'WhatsApp Images'), { recursive: true });
  mkdirSync(join(wa, 'Media', 'WhatsApp Voice Notes'), { recursive: true });
  writeFileSync(join(wa, 'Media', 'WhatsApp Images', 'IMG-1.jpg'), Buffer.alloc(300_000, 1));
  writeFileSync(join(wa, 'Media', 'WhatsApp Voice Notes', 'PTT-1.opus'), 'voice');
  sqlite(join(wa, 'Databases', 'msgstore.db'), MODERN_SCHEMA, [
    ["INSERT INTO jid (_id, user, server, type, raw_string) VALUES (1, '491111', 's.whatsapp.net', 0, '491111@s.whatsapp.net')", [[]]],
    ['INSERT INTO chat (_id, jid_row_id) VALUES (10, 1)', [[]]],
    ['INSERT INTO message (_id, chat_row_id, from_me, key_id, sender_jid_row_id, timestamp, message_type) VALUES (?, 10, 0, ?, 0, ?, 1)', [[1, 'K1', 1_700_000_000_000], [2, 'K2', 1_700_000_001_000]]],
    ['INSERT INTO message_media (message_row_id, chat_row_id, file_path, mime_type) VALUES (?, 10, ?, NULL)', [[1, 'Media/WhatsApp Images/IMG-1.jpg']]],
  ]);
  const key = RootKey.generate();
  const repo = await Repository.init(new LocalFolderBackend(join(dir, 'repo')), key);
  repo.useIndexCache(join(dir, 'cache'));
  return { dir, wa, key, repo, objects: (kind: string) => readdirSync(join(dir, 'repo', kind), { recursive: true }).map(String).sort() };
}

test('an export in which nothing changed is backed up as its last snapshot: the same tree and catalog, nothing stored', async (t) => {
  const { dir, wa, repo, objects } = await exportAndRepo(t);
  const first = await importAndBackup(repo, { sources: [wa] });
  assert.notEqual(first.imported, null, 'the first backup built the catalog');
  const data = objects('data');
  const index = objects('index');

  const events: JobProgress[] = [];
  const second = await importAndBackup(repo, { sources: [wa], onProgress: (p) => events.push(p) });
  assert.equal(second.imported, null, 'no import ran');
  assert.equal(second.catalogSkipped, null);
  assert.equal(second.snapshot.tree, first.snapshot.tree);
  assert.equal(second.snapshot.parent, first.id);
  assert.equal(second.snapshot.sourceKind, 'whatsapp-android');
  assert.ok(second.snapshot.catalog?.content.equals(first.snapshot.catalog!.content), 'the same catalog');
  assert.equal(second.snapshot.catalogSource, first.snapshot.catalogSource);
  const fileBytes = FILES.reduce((n, rel) => n + lstatSync(join(wa, rel)).size, 0);
  assert.deepEqual({ ...second.snapshot.summary, durationMs: 0 }, { files: 3, dirs: 5, bytes: fileBytes, newBytes: 0, storedBytes: 0, durationMs: 0 });
  assert.equal(second.reusedFiles, 3, 'every file: the database and two media files');
  assert.deepEqual(objects('data'), data, 'no pack written');
  assert.deepEqual(objects('index'), index, 'no index file written');
  const done = events.filter((e) => e.phase === 'backing-up').at(-1);
  assert.equal(done?.bytesDone, fileBytes, 'progress reached every byte');
  assert.ok(events.some((e) => e.phase === 'verifying'), 'the new snapshot was verified');
  // Retention keeps the newest only and prunes nothing: the first snapshot's data is the second's.
  const kept = await applyRetention(repo, 1);
  assert.deepEqual(kept.forgotten.map((f) => f.id), [first.id]);
  assert.deepEqual(objects('data'), data, 'no pack pruned');
  assert.deepEqual((await repo.listSnapshots()).map((s) => s.id), [second.id]);
  const report = await checkRepository(repo, { readData: true });
  assert.deepEqual(report.errors, []);

  const target = join(dir, 'restored');
  await restore(repo, { snapshot: await repo.findSnapshot('latest'), target });
  for (const rel of FILES) {
    assert.deepEqual(readFileSync(join(target, 'WhatsApp', rel)), readFileSync(join(wa, rel)), rel);
  }
});

test('a mode changed alone makes the next backup walk the export, and the snapshot records the new mode', async (t) => {
  const { dir, wa, repo } = await exportAndRepo(t);
  const first = await importAndBackup(repo, { sources: [wa] });
  chmodSync(join(wa, 'Media', 'WhatsApp Voice Notes', 'PTT-1.opus'), 0o600);
  const second = await importAndBackup(repo, { sources: [wa] });
  assert.notEqual(second.snapshot.tree, first.snapshot.tree);
  assert.notEqual(second.snapshot.catalogSource, first.snapshot.catalogSource, 'the fingerprint covers the mode');
  const target = join(dir, 'restored');
  await restore(repo, { snapshot: await repo.findSnapshot('latest'), target });
  assert.equal(lstatSync(join(target, 'WhatsApp', 'Media', 'WhatsApp Voice Notes', 'PTT-1.opus')).mode & 0o777, 0o600);
});

test('an index that no longer lists what the last snapshot needs: the export is walked, stored again and its catalog built again', async (t) => {
  const { dir, wa, key, repo, objects } = await exportAndRepo(t);
  const first = await importAndBackup(repo, { sources: [wa] });
  // Every index file gone: the packs are still there, but nothing says what they hold.
  for (const name of objects('index')) rmSync(join(dir, 'repo', 'index', name), { force: true });
  const again = await Repository.open(new LocalFolderBackend(join(dir, 'repo')), { kind: 'key', key });
  again.useIndexCache(join(dir, 'cache'));
  const second = await importAndBackup(again, { sources: [wa] });
  assert.notEqual(second.imported, null, 'the catalog was built again');
  assert.notEqual(second.snapshot.catalog, null);
  assert.equal(second.snapshot.tree, first.snapshot.tree, 'the same files make the same tree');
  assert.ok(second.snapshot.summary.newBytes > 0, 'what the index lacked was stored again');
  const report = await checkRepository(again, { readData: true });
  assert.deepEqual(report.errors, []);
});

test('the snapshot of an unchanged export is still verified: a pack gone from storage fails the backup, named', async (t) => {
  const { dir, wa, repo, objects } = await exportAndRepo(t);
  await importAndBackup(repo, { sources: [wa] });
  const pack = objects('data').filter((p) => p.includes('/')).at(-1)!;
  rmSync(join(dir, 'repo', 'data', pack));
  await assert.rejects(importAndBackup(repo, { sources: [wa] }), (e: Error) => {
    assert.ok(isChatsafeError(e) && e.kind === 'integrity', String(e));
    assert.equal(e.message, `data/${pack}: is missing`);
    return true;
  });
});

test('a verification given the checked references of a snapshot uses their packs only for the same tree, catalog and index', async (t) => {
  const { wa, repo } = await exportAndRepo(t);
  const { id, snapshot } = await importAndBackup(repo, { sources: [wa] });
  const index = await repo.loadIndex();
  const checked = await referencedPacks(repo, index, id, snapshot);
  assert.ok(checked.packs.size > 0);
  await verifySnapshot(repo, id, undefined, index, checked);
  // The same tree and catalog: the packs given are the ones checked, so a pack that is not there fails.
  const absent = 'ab'.repeat(32);
  await assert.rejects(verifySnapshot(repo, id, undefined, index, { snapshot, index, packs: new Set([absent]) }), new RegExp(`data/ab/${absent}: is missing`));
  // Another tree: the snapshot's own references are looked up again, and it verifies.
  await verifySnapshot(repo, id, undefined, index, { snapshot: { tree: absent, catalog: snapshot.catalog }, index, packs: new Set([absent]) });
  await verifySnapshot(repo, id, undefined, index, { snapshot: { tree: snapshot.tree, catalog: null }, index, packs: new Set([absent]) });
  // The same tree and catalog, found in another index: looked up again.
  const other = await repo.loadIndexForUpdate();
  await verifySnapshot(repo, id, undefined, other, { snapshot, index, packs: new Set([absent]) });
});
