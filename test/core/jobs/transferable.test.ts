import assert from 'node:assert/strict';
import { test } from 'node:test';
import { moved, transferable } from '../../../src/core/jobs/transferable.js';

test('a buffer of its own moves as it is; a slice or one from the small-buffer pool is copied', () => {
  const own = Buffer.alloc(64 * 1024, 7);
  assert.equal(transferable(own), own.buffer, 'no copy of a large buffer that spans its memory');

  const slice = own.subarray(10, 20);
  const copied = transferable(slice);
  assert.notEqual(copied, own.buffer);
  assert.deepEqual(Buffer.from(copied), slice);

  const pooled = Buffer.from('a few bytes'); // carved out of Node's shared pool
  const fromPool = transferable(pooled);
  assert.notEqual(fromPool, pooled.buffer, 'the pool other Buffers share is never moved');
  assert.equal(fromPool.byteLength, pooled.length);
  assert.deepEqual(Buffer.from(fromPool), pooled);

  const small = Buffer.alloc(100, 1); // its own memory, but small enough to copy
  assert.deepEqual(Buffer.from(transferable(small)), small);
});

test('a buffer moves with its message, shared memory never does', () => {
  const own = new ArrayBuffer(16);
  assert.deepEqual(moved(own), [own]);
  assert.deepEqual(moved(new SharedArrayBuffer(16)), []);
});
