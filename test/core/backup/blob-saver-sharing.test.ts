import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test, type TestContext } from 'node:test';
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

/**
 * Chunks of 1 MiB go into a local folder until the reader has to wait, with every pack write held
 * back; returns how many packs were waiting to be written by then. Three of these chunks fill a
 * pack. `folderSays: false` hides the folder's `packWritesAtOnce`, as storage that does not say.
 */
async function packsWaitingWhenReaderWaits(t: TestContext, folderSays: boolean): Promise<number> {
  const { repo, backend } = await repoWithSource(t, {});
  if (!folderSays) Object.defineProperty(backend, 'packWritesAtOnce', { value: undefined });
  const index = await repo.loadIndexForUpdate();
  const pool = new CryptoPool(repo.keys, 1, { indexedIds: index.sharedIds(), packTarget: PACK_TARGET_BYTES });
  t.after(() => pool.close());
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  let waiting = 0;
  const write = backend.write.bind(backend);
  backend.write = async (kind, name, data) => {
    if (kind === 'data') {
      waiting++;
      await held;
    }
    return write(kind, name, data);
  };
  const saver = new BlobSaver(repo, index, pool);
  const ids = new DirectoryIds();
  for (let i = 0; i < 40; i++) {
    const chunk = randomBytes(1024 * 1024);
    saver.add('data', [chunk], chunk.length, false, ids);
    // Batches in flight clear as the worker answers; held writes never do.
    const roomSoon = await Promise.race([saver.room().then(() => true), new Promise<false>((resolve) => setTimeout(() => resolve(false), 1000))]);
    if (!roomSoon) break;
  }
  const packs = waiting;
  release();
  await saver.flush();
  assert.equal(saver.stats.newBlobs, (await ids.done()).length / 32, 'every chunk was stored once the writes went on');
  return packs;
}

test('the reader waits once the packs being written reach what the storage takes at once', async (t) => {
  const local = await packsWaitingWhenReaderWaits(t, true);
  const remote = await packsWaitingWhenReaderWaits(t, false);
  t.diagnostic(`packs waiting when the reader waited: ${local} for a local folder, ${remote} elsewhere`);
  assert.ok(local >= 2 && local <= 3, `a local folder: two packs' bytes (${local} packs of 3 MiB) before the reader waits`);
  assert.ok(remote > local && remote <= 4, `elsewhere three (${remote} packs against ${local})`);
});
