import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { storageName, storageNameOffThread } from '../../../src/core/crypto/ids.js';

test('a pack named on the thread pool gets the same name as one named in line: the SHA-256 of its bytes', async () => {
  const big = randomBytes(9 * 1024 * 1024);
  // A view into a larger buffer, as a pack is the first bytes of its assembly buffer.
  const view = big.subarray(0, 8 * 1024 * 1024 + 123);
  const expected = createHash('sha256').update(view).digest('hex');
  assert.equal(await storageNameOffThread(view), expected);
  assert.equal(storageName([view]), expected);
  assert.equal(await storageNameOffThread(Buffer.alloc(0)), createHash('sha256').digest('hex'));
});
