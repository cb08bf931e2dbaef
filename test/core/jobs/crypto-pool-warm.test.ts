import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { CryptoPool } from '../../../src/core/jobs/crypto-pool.js';

/** A worker thread shows as one MessagePort among the process's active resources. */
const ports = () => process.getActiveResourcesInfo().filter((r) => r === 'MessagePort').length;

test('warm starts every worker before the first request, once, and close stops them', async () => {
  const before = ports();
  const pool = new CryptoPool({ data: randomBytes(32), blobId: randomBytes(32) }, 2);
  assert.equal(ports(), before, 'a pool starts no worker until asked');
  pool.warm();
  pool.warm();
  assert.equal(ports(), before + 2);
  const { hex } = await pool.sha256([Buffer.from('chatsafe')]);
  assert.equal(hex, '733548bc651a3fa2192ec36a80d075f5e3367977ae118a1e46893b34ab0955ca', 'the warmed workers answer');
  assert.equal(ports(), before + 2, 'a request after warm starts no other worker');
  await pool.close();
  assert.equal(ports(), before);
});
