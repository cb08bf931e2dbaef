import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { backup } from '../../../src/core/backup/backup.js';
import { checkRepository } from '../../../src/core/check/check.js';
import { restore } from '../../../src/core/restore/restore.js';
import { repoWithSource } from '../../helpers/repo.js';

test('a catalog that comes long after the files is stored with them, and reads back exactly', async (t) => {
  const media = randomBytes(3 * 1024 * 1024);
  const { dir, src, repo } = await repoWithSource(t, { 'msgstore.db': randomBytes(64 * 1024), 'IMG-1.jpg': media });
  const catalogBytes = Buffer.concat([randomBytes(2 * 1024 * 1024), Buffer.alloc(1024 * 1024, 'catalog rows ')]);
  const catalogPath = join(dir, 'catalog.sqlite');
  let asked = 0;
  const result = await backup(repo, {
    sources: [src],
    sourceKind: 'whatsapp-android',
    catalogSource: 'ab'.repeat(32),
    // Well after the files are stored, as after a database grew.
    pendingCatalog: async () => {
      asked++;
      await new Promise((r) => setTimeout(r, 1500));
      writeFileSync(catalogPath, catalogBytes);
      return catalogPath;
    },
  });
  assert.equal(asked, 1);
  const catalog = result.snapshot.catalog!;
  assert.equal(catalog.size, catalogBytes.length);
  const index = await repo.loadIndex();
  const stored = Buffer.concat(await Promise.all([...catalog.content].map((id) => repo.readBlob(index, 'data', id))));
  assert.ok(stored.equals(catalogBytes), 'the catalog reads back byte for byte');

  const report = await checkRepository(repo, { readData: true });
  assert.deepEqual(report.errors, []);
  const target = join(dir, 'restored');
  await restore(repo, { snapshot: await repo.findSnapshot('latest'), target });
  assert.ok(readFileSync(join(target, 'src', 'IMG-1.jpg')).equals(media));
});
