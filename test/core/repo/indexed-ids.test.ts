import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { growShared, IndexedIds, MAX_INDEXED_BLOBS } from '../../../src/core/repo/indexed-ids.js';
import { MasterIndex } from '../../../src/core/repo/master-index.js';

const id = (n: number) => createHash('sha256').update(`blob ${n}`).digest();

/** Adds a pack of blobs `[from, to)` to the index. */
function addPack(index: MasterIndex, pack: number, from: number, to: number): void {
  const entries = [];
  for (let n = from; n < to; n++) entries.push({ id: id(n), type: 'data' as const, offset: (n - from) * 100, length: 100, rawLength: 60 });
  index.addPack({ id: createHash('sha256').update(`pack ${pack}`).digest('hex'), size: (to - from) * 100, entries });
}

test('a worker attached to the shared ids sees what the index holds, through its growth, in the same buffers', () => {
  const index = new MasterIndex();
  addPack(index, 0, 0, 100);
  const buffers = index.sharedIds();
  const view = IndexedIds.attach(buffers);
  for (let n = 0; n < 100; n++) assert.equal(view.has(id(n)), true);
  const tagBytes = buffers.tags.byteLength;
  const slotBytes = buffers.slots.byteLength;

  addPack(index, 1, 100, 5000); // past the first capacity of both the tags and their table, and past four blocks of rows
  assert.equal(index.sharedIds(), buffers, 'the buffers are never replaced: a worker is handed them once');
  assert.ok(buffers.tags.byteLength > tagBytes && buffers.slots.byteLength > slotBytes, 'they grew in place');
  for (let n = 0; n < 5000; n++) assert.equal(view.has(id(n)), true, 'the view attached first grew with them');
  for (let n = 5000; n < 5200; n++) assert.equal(view.has(id(n)), false);

  // An id's 32 bytes are compared whole: one differing in its last byte (the same tag) is another
  // blob, whether its row is in a written block or in the one still being filled.
  for (const n of [7, 4990]) {
    const near = Buffer.from(id(n));
    near[31] = near[31]! ^ 1;
    assert.equal(view.has(near), false);
  }
  assert.equal(view.has(id(7).subarray(0, 16)), false, 'only whole ids are looked up');
});

test('a clone of the index is in shared memory of its own', () => {
  const index = new MasterIndex();
  addPack(index, 0, 0, 50);
  const copy = index.clone();
  addPack(copy, 1, 50, 60);
  const original = IndexedIds.attach(index.sharedIds());
  const cloned = IndexedIds.attach(copy.sharedIds());
  assert.ok(copy.sharedIds().tags instanceof SharedArrayBuffer);
  assert.notEqual(copy.sharedIds().rows.tail, index.sharedIds().rows.tail, 'and rows of its own');
  assert.equal(cloned.has(id(55)), true);
  assert.equal(original.has(id(55)), false);
  assert.equal(original.has(id(5)), true);
});

test('buffers that are not an index id table are refused', () => {
  const growable = (bytes: number) => new SharedArrayBuffer(bytes, { maxByteLength: 1024 });
  const moves = new SharedArrayBuffer(4);
  const rows = new MasterIndex().sharedIds().rows;
  assert.throws(() => IndexedIds.attach({ tags: growable(32), slots: growable(12), moves, rows }), /power of two/);
  assert.throws(() => IndexedIds.attach({ tags: growable(32), slots: growable(0), moves, rows }), /power of two/);
  assert.throws(() => IndexedIds.attach({ tags: new SharedArrayBuffer(32), slots: new SharedArrayBuffer(64), moves, rows }), /growable/);
  assert.throws(() => IndexedIds.attach({ tags: growable(32), slots: growable(64), moves: new SharedArrayBuffer(8), rows }), /counter/);
});

test('an index read back from its cache bytes is shared as well', () => {
  const index = new MasterIndex();
  addPack(index, 0, 0, 300);
  const back = MasterIndex.fromBytes(index.toBytes());
  const view = IndexedIds.attach(back.sharedIds());
  for (let n = 0; n < 300; n++) assert.equal(view.has(id(n)), true);
});

test('an index past its most blobs says so plainly; the reservation is what that many need', () => {
  const buffers = new MasterIndex().sharedIds();
  assert.equal(buffers.tags.maxByteLength, MAX_INDEXED_BLOBS * 4);
  assert.equal(buffers.slots.maxByteLength, MAX_INDEXED_BLOBS * 2 * 4, 'a table at most half full');
  const full = new SharedArrayBuffer(64, { maxByteLength: 64 });
  growShared(full, 32); // never shrinks
  assert.equal(full.byteLength, 64);
  assert.throws(() => growShared(full, 128), new RegExp(`cannot hold more than ${MAX_INDEXED_BLOBS} blobs`));
});

test('a worker reading while the index grows and its table is filled again never misses an id it held, nor finds one it did not', async () => {
  const index = new MasterIndex();
  addPack(index, 0, 0, 2000);
  const held = Array.from({ length: 2000 }, (_, n) => id(n));
  const absent = Array.from({ length: 500 }, (_, n) => id(1_000_000 + n));
  const reader = new Worker(new URL('../../helpers/indexed-ids-reader.js', import.meta.url), { workerData: { buffers: index.sharedIds(), held, absent } });
  try {
    await once(reader, 'message'); // ready
    // 120,000 ids more, a pack at a time: the ids grow and the table doubles six times while the worker reads.
    for (let pack = 1; pack <= 60; pack++) {
      addPack(index, pack, 2000 * pack, 2000 * (pack + 1));
      await new Promise((resolve) => setImmediate(resolve));
    }
    reader.postMessage('stop');
    const [result] = (await once(reader, 'message')) as [{ rounds: number; missed: number; found: number }];
    assert.ok(result.rounds > 1, `the worker read while the index grew (${result.rounds} rounds)`);
    assert.deepEqual({ missed: result.missed, found: result.found }, { missed: 0, found: 0 });
  } finally {
    await reader.terminate();
  }
});
