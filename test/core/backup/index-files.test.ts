/**
 * How often a backup writes an index file: every 128 MiB of packs, or sooner once 8192 blobs wait
 * for one, so a database stored page by page never builds one file for tens of thousands of blobs.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { backup } from '../../../src/core/backup/backup.js';
import { checkRepository } from '../../../src/core/check/check.js';
import { IndexFileSchema } from '../../../src/core/repo/index-file.js';
import { META_LABELS } from '../../../src/core/repo/sealed-json.js';
import { repoWithSource } from '../../helpers/repo.js';

/** A file the chunker takes for a SQLite database with 4 KiB pages, of `pages` random pages. */
function database(pages: number): Buffer {
  const bytes = randomBytes(pages * 4096);
  bytes.write('SQLite format 3\0', 0, 'latin1');
  bytes.writeUInt16BE(4096, 16);
  return bytes;
}

test('a database of 20,000 pages is indexed in files of at most 8192 blobs and one pack more', async (t) => {
  const { repo, backend, src } = await repoWithSource(t, { 'msgstore.db': database(20_000) });
  await backup(repo, { sources: [src] });
  const names: string[] = [];
  for await (const o of backend.list('index')) names.push(o.name);
  const files = await Promise.all(names.map((n) => repo.loadJson('index', n, META_LABELS.index, IndexFileSchema)));
  const blobsIn = files.map((f) => f.packs.reduce((sum, p) => sum + p.blobs.length, 0));
  const largestPack = Math.max(...files.flatMap((f) => f.packs.map((p) => p.blobs.length)));
  // 80 MiB of packs: by size alone, one index file would hold all 20,000 pages.
  assert.ok(files.length >= 3, `index files: ${files.length} (${blobsIn.join(', ')} blobs)`);
  for (const n of blobsIn) assert.ok(n < 8192 + largestPack, `an index file of ${n} blobs`);
  assert.ok(blobsIn.reduce((a, b) => a + b, 0) >= 20_000, 'every page is indexed');
  const report = await checkRepository(repo, { readData: false });
  assert.deepEqual(report.errors, []);
});
