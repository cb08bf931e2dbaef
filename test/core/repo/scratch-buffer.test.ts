import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ScratchBuffer } from '../../../src/core/repo/scratch-buffer.js';

test('a scratch buffer is reused up to its limit, and a larger request does not replace it', () => {
  const s = new ScratchBuffer(1024);
  const a = s.take(100);
  assert.ok(a.length >= 100);
  assert.equal(s.take(50), a, 'a smaller request reuses the buffer');
  const b = s.take(1024);
  assert.equal(b.length, 1024, 'grown to the limit');
  assert.equal(s.take(10), b, 'and kept');
  const big = s.take(5000);
  assert.equal(big.length, 5000);
  assert.notEqual(s.take(5000), big, 'a request over the limit gets a buffer of its own each time');
  assert.equal(s.take(1000), b, 'the kept buffer is still the one of the limit');
});
