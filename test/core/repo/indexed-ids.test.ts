import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { IndexedIds } from '../../../src/core/repo/indexed-ids.js';
import { MasterIndex } from '../../../src/core/repo/master-index.js';

const id = (n: number) => createHash('sha256').update(`blob ${n}`).digest();

/** Adds a pack of blobs `[from, to)` to the index. */
function addPack(index: MasterIndex, pack: number, from: number, to: number): void {
  const entries = [];
  for (let n = from; n < to; n++) entries.push({ id: id(n), type: 'data' as const, offset: (n - from) * 100, length: 100, rawLength: 60 });
  index.addPack({ id: createHash('sha256').update(`pack ${pack}`).digest('hex'), size: (to - from) * 100, entries });
}

test('a worker attached to the shared ids sees what the index holds, and keeps a consistent older view when they move to larger buffers', () => {
  const index = new MasterIndex();
  addPack(index, 0, 0, 100);
  const first = index.sharedIds();
  assert.equal(index.sharedIds(), first, 'the same buffers while nothing grew: a worker is not sent them again');
  const early = IndexedIds.attach(first);
  for (let n = 0; n < 100; n++) assert.equal(early.has(id(n)), true);

  addPack(index, 1, 100, 5000); // past the first capacity of both the ids and their table
  const later = index.sharedIds();
  assert.notEqual(later.ids, first.ids);
  assert.notEqual(later.slots, first.slots);
  const now = IndexedIds.attach(later);
  for (let n = 0; n < 5000; n++) assert.equal(now.has(id(n)), true);
  for (let n = 5000; n < 5200; n++) assert.equal(now.has(id(n)), false);
  // The old buffers are never written again: the early view still answers for what it held, and
  // takes nothing added since for stored (such a chunk would at worst be sealed again).
  for (let n = 0; n < 100; n++) assert.equal(early.has(id(n)), true);
  for (let n = 100; n < 5000; n++) assert.equal(early.has(id(n)), false);

  // An id's 32 bytes are compared whole: one differing in its last byte is another blob.
  const near = Buffer.from(id(7));
  near[31] = near[31]! ^ 1;
  assert.equal(now.has(near), false);
  assert.equal(now.has(id(7).subarray(0, 16)), false, 'only whole ids are looked up');
});

test('a clone of the index is in shared memory of its own', () => {
  const index = new MasterIndex();
  addPack(index, 0, 0, 50);
  const copy = index.clone();
  addPack(copy, 1, 50, 60);
  const original = IndexedIds.attach(index.sharedIds());
  const cloned = IndexedIds.attach(copy.sharedIds());
  assert.ok(copy.sharedIds().ids instanceof SharedArrayBuffer);
  assert.equal(cloned.has(id(55)), true);
  assert.equal(original.has(id(55)), false);
  assert.equal(original.has(id(5)), true);
});

test('buffers that are not an index id table are refused', () => {
  assert.throws(() => IndexedIds.attach({ ids: new SharedArrayBuffer(32), slots: new SharedArrayBuffer(12) }), /power of two/);
  assert.throws(() => IndexedIds.attach({ ids: new SharedArrayBuffer(32), slots: new SharedArrayBuffer(0) }), /power of two/);
});

test('an index read back from its cache bytes is shared as well', () => {
  const index = new MasterIndex();
  addPack(index, 0, 0, 300);
  const back = MasterIndex.fromBytes(index.toBytes());
  const view = IndexedIds.attach(back.sharedIds());
  for (let n = 0; n < 300; n++) assert.equal(view.has(id(n)), true);
});
