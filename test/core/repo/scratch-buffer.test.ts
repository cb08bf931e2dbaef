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

test('a request that may not grow the buffer uses it when it fits, and otherwise gets one of its own', () => {
  const s = new ScratchBuffer(1024);
  const kept = s.take(100);
  assert.equal(s.take(80, false), kept, 'it fits: the kept buffer');
  const own = s.take(500, false);
  assert.equal(own.length, 500);
  assert.notEqual(own, kept);
  assert.equal(s.take(90), kept, 'the kept buffer did not grow');
  const grown = s.take(500);
  assert.ok(grown.length >= 500);
  assert.equal(s.take(500, false), grown, 'grown by a request that may, it serves the others too');
});
