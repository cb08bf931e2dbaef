import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { backup } from '../../../src/core/backup/backup.js';
import { ChunkPlaces } from '../../../src/core/restore/chunk-places.js';
import { readBatches } from '../../../src/core/restore/chunk-stream.js';
import { restore } from '../../../src/core/restore/restore.js';
import { latestSourceFile, repoWithSource } from '../../helpers/repo.js';
import { tempDir, pseudoRandomBytes } from '../../helpers/tmp.js';

const PAGE = 4096;

/** A SQLite file of 1,000 pages: its header, nine distinct pages, and empty (zero) pages between them. */
function databaseWithEmptyPages(): Buffer {
  const db = Buffer.alloc(1000 * PAGE);
  db.write('SQLite format 3\0', 0, 'latin1');
  db.writeUInt16BE(PAGE, 16);
  for (let k = 1; k < 10; k++) pseudoRandomBytes(PAGE, k).copy(db, k * 100 * PAGE);
  return db;
}

test('a blob repeated within a batch (empty pages) is read once, and the file restores byte for byte', async (t) => {
  const db = databaseWithEmptyPages();
  const { repo, src } = await repoWithSource(t, { 'chat.db': db });
  await backup(repo, { sources: [src] });
  const { snapshot, index, node } = await latestSourceFile(repo, 'chat.db');
  assert.equal(node.content.length, 1000);

  const batches = [...readBatches(ChunkPlaces.resolve([node], index))];
  assert.equal(batches.length, 1, '1,000 pages of 4 KiB open into one batch');
  const [b] = batches;
  assert.equal(b!.lengths.length, 1000, 'every page is opened');
  assert.equal(b!.blobs.count, 1000);
  // Eleven distinct blobs: the header, nine pages, and one empty page; adjacent ones share a range.
  assert.ok(b!.ranges.length <= 11, `${b!.ranges.length} ranges read`);
  // An empty page seals to about 50 bytes; read once per occurrence, 990 of them came to 50 KB.
  assert.ok(b!.room.sealed < 11 * (PAGE + 64), `${b!.room.sealed} sealed bytes read for 11 distinct blobs`);

  const out = tempDir();
  t.after(out.cleanup);
  await restore(repo, { snapshot, target: out.dir });
  assert.ok(readFileSync(join(out.dir, 'src', 'chat.db')).equals(db));
});
