import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { BlobSaver, PACK_TARGET_BYTES } from '../../../src/core/backup/blob-saver.js';
import { DirectoryIds } from '../../../src/core/backup/directory-ids.js';
import { CryptoPool } from '../../../src/core/jobs/crypto-pool.js';
import { repoWithSource } from '../../helpers/repo.js';

/** Whether `p` settles within a few turns of the microtask queue (a worker's answer takes a macrotask). */
async function settlesAtOnce(p: Promise<unknown>): Promise<boolean> {
  let settled = false;
  void p.then(() => (settled = true));
  for (let i = 0; i < 10; i++) await Promise.resolve();
  return settled;
}

test('while other work shares the cores, a worker gets one batch at a time; two once it ends', async (t) => {
  const { repo } = await repoWithSource(t, {});
  const index = await repo.loadIndexForUpdate();
  const pool = new CryptoPool(repo.keys, 1, { indexedIds: index.sharedIds(), packTarget: PACK_TARGET_BYTES });
  t.after(() => pool.close());
  let endCatalog!: () => void;
  const catalog = new Promise<void>((resolve) => (endCatalog = resolve));
  const saver = new BlobSaver(repo, index, pool, catalog);
  const ids = new DirectoryIds();
  const chunk = randomBytes(1024 * 1024); // a batch is sent once it holds 1 MiB

  saver.add('data', [chunk], chunk.length, false, ids);
  const room = saver.room();
  assert.equal(await settlesAtOnce(room), false, 'one batch in flight: the next waits while the catalog is built');
  endCatalog();
  assert.equal(await settlesAtOnce(room), true, 'the catalog done, a second batch may go at once');

  saver.add('data', [randomBytes(chunk.length)], chunk.length, false, ids);
  saver.add('data', [randomBytes(chunk.length)], chunk.length, false, ids);
  assert.equal(await settlesAtOnce(saver.room()), false, 'two in flight is the most for one worker');
  await saver.flush();
  assert.equal((await ids.done()).length, 3 * 32, 'every chunk got its id');
  assert.equal(saver.stats.newBlobs, 3);
});

test('whole blobs (a large file\'s chunk lists) wait for room one at a time, not all at once', async (t) => {
  const { repo } = await repoWithSource(t, {});
  const index = await repo.loadIndexForUpdate();
  const pool = new CryptoPool(repo.keys, 1, { indexedIds: index.sharedIds(), packTarget: PACK_TARGET_BYTES });
  t.after(() => pool.close());
  const saver = new BlobSaver(repo, index, pool);

  saver.save('tree', randomBytes(64 * 1024), true);
  assert.equal(await settlesAtOnce(saver.room()), true, 'a listing of 64 KiB does not hold anything up');
  const list = randomBytes(256 * 1024);
  saver.save('tree', list, true);
  const room = saver.room();
  assert.equal(await settlesAtOnce(room), false, 'past 256 KiB in flight, the next waits for the worker');
  await room;
  assert.equal(await settlesAtOnce(saver.room()), true, 'sealed, there is room again');
  await saver.flush();
  assert.equal(saver.stats.newBlobs, 2);
});
