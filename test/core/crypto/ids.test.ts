import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { storageName, storageNameInSteps } from '../../../src/core/crypto/ids.js';

test('a pack named a step at a time gets the same name as one named at once: the SHA-256 of its bytes', async () => {
  const big = randomBytes(9 * 1024 * 1024);
  // A view into a larger buffer, as a pack is the first bytes of its assembly buffer.
  const view = big.subarray(0, 8 * 1024 * 1024 + 123);
  const expected = createHash('sha256').update(view).digest('hex');
  assert.equal(await storageNameInSteps(view), expected);
  assert.equal(storageName([view]), expected);
  // Steps that divide the buffer exactly, and a buffer shorter than one step.
  assert.equal(await storageNameInSteps(view.subarray(0, 3 * 4096), 4096), createHash('sha256').update(view.subarray(0, 3 * 4096)).digest('hex'));
  assert.equal(await storageNameInSteps(view.subarray(0, 100), 4096), createHash('sha256').update(view.subarray(0, 100)).digest('hex'));
  assert.equal(await storageNameInSteps(Buffer.alloc(0)), createHash('sha256').digest('hex'));
});

test('naming a pack a step at a time lets other work run between the steps', async () => {
  let ran = false;
  setImmediate(() => (ran = true));
  // Hashed at once, this would resolve before the callback above had its turn.
  await storageNameInSteps(randomBytes(3 * 4096), 4096);
  assert.equal(ran, true);
});
