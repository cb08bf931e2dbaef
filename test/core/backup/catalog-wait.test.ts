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

test('while the catalog is still being built, the files are written and indexed first, and the catalog is stored after', async (t) => {
  const media = randomBytes(3 * 1024 * 1024);
  const { dir, src, repo } = await repoWithSource(t, { 'msgstore.db': randomBytes(64 * 1024), 'IMG-1.jpg': media });
  const catalogBytes = Buffer.concat([randomBytes(1024 * 1024), Buffer.alloc(1024 * 1024, 'catalog rows ')]);
  const catalogPath = join(dir, 'catalog.sqlite');
  let built!: (path: string) => void;
  const building = new Promise<string>((resolve) => (built = resolve));
  const count = async (kind: 'index' | 'data') => {
    let n = 0;
    for await (const _ of repo.backend.list(kind)) n++;
    return n;
  };
  let atWait: { index: number; data: number } | null = null;
  const result = await backup(repo, {
    sources: [src],
    sourceKind: 'whatsapp-android',
    catalogSource: 'cd'.repeat(32),
    alongside: building,
    pendingCatalog: async () => {
      // What storage holds while the backup waits: the files' packs, and an index file naming them.
      atWait = { index: await count('index'), data: await count('data') };
      writeFileSync(catalogPath, catalogBytes);
      built(catalogPath);
      return building;
    },
  });
  assert.ok(atWait !== null);
  const { index: indexAtWait, data: dataAtWait } = atWait as { index: number; data: number };
  assert.ok(dataAtWait >= 2, `the media's and the listings' packs are written before the wait (${dataAtWait})`);
  assert.ok(indexAtWait >= 1, 'and indexed, so an import that fails or is cancelled leaves them reusable');
  assert.ok((await count('data')) > dataAtWait, 'the catalog went to packs of its own after the wait');

  const index = await repo.loadIndex();
  const catalog = result.snapshot.catalog!;
  const stored = Buffer.concat(await Promise.all([...catalog.content].map((id) => repo.readBlob(index, 'data', id))));
  assert.ok(stored.equals(catalogBytes), 'the catalog reads back byte for byte');
  assert.deepEqual((await checkRepository(repo, { readData: true })).errors, []);
  const target = join(dir, 'restored');
  await restore(repo, { snapshot: await repo.findSnapshot('latest'), target });
  assert.ok(readFileSync(join(target, 'src', 'IMG-1.jpg')).equals(media));
});
