import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { blobId } from '../../../src/core/crypto/ids.js';
import { CryptoPool } from '../../../src/core/jobs/crypto-pool.js';
import { MasterIndex } from '../../../src/core/repo/master-index.js';
import { decodePackEntries } from '../../../src/core/repo/pack.js';

const keys = { data: randomBytes(32), blobId: randomBytes(32), meta: randomBytes(32) };
const put = (pool: CryptoPool, bytes: number) => {
  const data = randomBytes(bytes);
  return pool.packPut('tree', blobId(keys.blobId, data), data, false);
};

test('a pack of listings is handed over once it holds 1 MiB, not kept open until the backup ends', async () => {
  const pool = new CryptoPool(keys, 1, { indexedIds: new MasterIndex().sharedIds(), packTarget: 4 * 1024 * 1024 });
  try {
    assert.deepEqual(await put(pool, 300 * 1024), [], 'small listings wait for more');
    assert.deepEqual(await put(pool, 500 * 1024), []);
    const packs = await put(pool, 300 * 1024);
    assert.equal(packs.length, 1, 'past 1 MiB, the pack goes at once');
    assert.equal(decodePackEntries(new Uint8Array(packs[0]!.entries), packs[0]!.length, 'data/p').length, 3);
    // A database's listing alone (3.5 MB for the 1 GiB bench export) goes at once too.
    assert.equal((await put(pool, 3_500_000)).length, 1);
    assert.deepEqual(await put(pool, 1000), [], 'the next pack starts empty');
    assert.equal((await pool.packFinish()).length, 1);
  } finally {
    await pool.close();
  }
});
