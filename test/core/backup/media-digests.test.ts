/**
 * A backup of a chat export keeps the digests of its media beside the index
 * cache, and the next backup's catalog takes them for files that did not
 * change, through the catalog's own thread.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { importAndBackup } from '../../../src/core/backup/import-and-backup.js';
import { withSnapshotCatalog } from '../../../src/core/catalog/snapshot-catalog.js';
import { MediaDigestCache } from '../../../src/core/importers/media-digest-cache.js';
import { DIGEST_RECORD_BYTES, fileStateKey, MediaDigests } from '../../../src/core/importers/media-digests.js';
import { RootKey } from '../../../src/core/keys/root-key.js';
import { Repository } from '../../../src/core/repo/repository.js';
import { LocalFolderBackend } from '../../../src/core/storage/local-folder.js';
import { MODERN_SCHEMA, sqlite, tempDir } from '../importers/helpers.js';

const sha = (data: string) => createHash('sha256').update(data).digest('hex');

test('a backup keeps its media digests, and the next catalog takes them for the files that did not change', async (t) => {
  const dir = tempDir(t);
  const wa = join(dir, 'WhatsApp');
  const images = join(wa, 'Media', 'WhatsApp Images');
  mkdirSync(images, { recursive: true });
  for (const n of [1, 2]) writeFileSync(join(images, `IMG-${n}.jpg`), `image ${n}`);
  const msgstore = join(wa, 'Databases', 'msgstore.db');
  sqlite(msgstore, MODERN_SCHEMA, [
    ["INSERT INTO jid (_id, user, server, type, raw_string) VALUES (1, '491111', 's.whatsapp.net', 0, '491111@s.whatsapp.net')", [[]]],
    ['INSERT INTO chat (_id, jid_row_id) VALUES (10, 1)', [[]]],
    ['INSERT INTO message (_id, chat_row_id, from_me, key_id, sender_jid_row_id, timestamp, message_type) VALUES (?, 10, 0, ?, 0, ?, 1)', [[1, 'K1', 1_700_000_000_000], [2, 'K2', 1_700_000_001_000]]],
    ['INSERT INTO message_media (message_row_id, chat_row_id, file_path, mime_type) VALUES (?, 10, ?, NULL)', [[1, 'Media/WhatsApp Images/IMG-1.jpg'], [2, 'Media/WhatsApp Images/IMG-2.jpg']]],
  ]);
  const repo = await Repository.init(new LocalFolderBackend(join(dir, 'repo')), RootKey.generate());
  const cacheDir = join(dir, 'cache');
  repo.useIndexCache(cacheDir);
  const mediaDigests = async () =>
    withSnapshotCatalog(repo, await repo.findSnapshot('latest'), async (catalog) =>
      catalog.listMessages(catalog.listChats()[0]!.id).map((m) => m.media?.sha256 ?? null),
    );

  const first = await importAndBackup(repo, { sources: [wa] });
  assert.notEqual(first.imported, null);
  assert.deepEqual(await mediaDigests(), [sha('image 1'), sha('image 2')]);
  const cache = new MediaDigestCache(cacheDir, repo.config.id, repo.keys.meta, wa);
  assert.equal(cache.load()?.length, 2 * DIGEST_RECORD_BYTES, 'one record for each file hashed');

  // Digests no file has, for the files as they are now: a catalog that shows them took them
  // from the cache; one that read the files would show their true digests.
  const planted = new MediaDigests();
  for (const n of [1, 2]) planted.record(fileStateKey(join(images, `IMG-${n}.jpg`), lstatSync(join(images, `IMG-${n}.jpg`), { bigint: true })), String(n).repeat(64));
  assert.equal(cache.save(planted.sortedRecords()), true);
  // The database grows and IMG-2 is replaced: the catalog is built again.
  const db = new Database(msgstore);
  db.prepare('INSERT INTO message (_id, chat_row_id, from_me, key_id, sender_jid_row_id, timestamp, message_type, text_data) VALUES (3, 10, 1, ?, 0, ?, 0, ?)').run('K3', 1_700_000_002_000, 'new');
  db.close();
  writeFileSync(join(images, 'IMG-2.jpg'), 'image 2, edited');

  const second = await importAndBackup(repo, { sources: [wa] });
  assert.notEqual(second.imported, null, 'the catalog was built again');
  assert.deepEqual(await mediaDigests(), ['1'.repeat(64), sha('image 2, edited'), null]);
  // The cache now holds what this build used: the planted digest for the unchanged file, the new one for the other.
  const kept = new MediaDigests(cache.load());
  assert.equal(kept.lookup(fileStateKey(join(images, 'IMG-1.jpg'), lstatSync(join(images, 'IMG-1.jpg'), { bigint: true }))), '1'.repeat(64));
  assert.equal(kept.lookup(fileStateKey(join(images, 'IMG-2.jpg'), lstatSync(join(images, 'IMG-2.jpg'), { bigint: true }))), sha('image 2, edited'));
});
