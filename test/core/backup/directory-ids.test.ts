import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { DirectoryIds } from '../../../src/core/backup/directory-ids.js';
import { ChunkList } from '../../../src/core/repo/chunk-list.js';

const ID = 32;

test('ids filled in any order come back in reserved order, and each file is a view of its run', async () => {
  const ids = new DirectoryIds();
  // Three files of 1, 40 and 0 chunks, then one of 3: more than the first capacity, so the array grows.
  const runs: Array<[number, number]> = [];
  for (const count of [1, 40, 0, 3]) {
    const first = ids.length;
    for (let i = 0; i < count; i++) assert.equal(ids.reserve(), first + i);
    runs.push([first, count]);
  }
  const answers = randomBytes(44 * ID);
  const order = [...Array(44).keys()].map((i) => (i * 17) % 44); // every slot once, out of order
  const done = ids.done();
  let settled = false;
  void done.then(() => (settled = true));
  for (const [k, slot] of order.entries()) {
    ids.fill(slot, answers, slot * ID);
    await Promise.resolve();
    assert.equal(settled, k === order.length - 1, `settled only after the last id (${k + 1} of 44 filled)`);
  }
  const all = await done;
  assert.equal(all.length, 44 * ID, 'cut to size');
  assert.deepEqual(Buffer.from(all), answers);
  const lists = runs.map(([first, count]) => ChunkList.view(all, first, count));
  assert.deepEqual(lists.map((l) => l.length), [1, 40, 0, 3]);
  assert.equal(lists[1]!.hex(0), answers.subarray(ID, 2 * ID).toString('hex'));
  assert.equal(lists[3]!.hex(2), answers.subarray(43 * ID, 44 * ID).toString('hex'));
  assert.equal(lists[2], ChunkList.EMPTY);
  assert.throws(() => ChunkList.view(all, 42, 3), /ids 42\.\.45 of an array of 44/);
  assert.throws(() => ids.reserve(), /after done/);
});

test('a directory with nothing to wait for settles at once; a failure rejects it', async () => {
  assert.equal((await new DirectoryIds().done()).length, 0);
  const ids = new DirectoryIds();
  ids.reserve();
  ids.reserve();
  const done = ids.done();
  ids.fill(0, randomBytes(ID), 0);
  ids.fail(new Error('worker died'));
  ids.fail(new Error('second error'));
  await assert.rejects(done, /worker died/);
});

test('room expected for a database\'s pages is made once, and ids past it still fit', async () => {
  const ids = new DirectoryIds();
  ids.reserve(); // a small file before it
  ids.expect(1000);
  const slots = Array.from({ length: 1003 }, () => ids.reserve()); // three more than expected: the file grew while read
  const answers = randomBytes(1004 * ID);
  const done = ids.done();
  for (let slot = 0; slot < 1004; slot++) ids.fill(slot, answers, slot * ID);
  const all = await done;
  assert.equal(slots.at(-1), 1003);
  assert.deepEqual(Buffer.from(all), answers);
  const exact = new DirectoryIds();
  exact.expect(5000);
  for (let i = 0; i < 5000; i++) exact.reserve();
  const whole = exact.done();
  for (let slot = 0; slot < 5000; slot++) exact.fill(slot, answers, (slot % 1004) * ID);
  assert.equal((await whole).buffer.byteLength, 5000 * ID, 'one array of just the expected size, not grown by doubling');
});

test('known counts the ids from the first that have come, whatever order they come in, across growth', () => {
  const ids = new DirectoryIds();
  const answers = randomBytes(100 * ID);
  for (let i = 0; i < 60; i++) ids.reserve();
  assert.equal(ids.known, 0);
  // Batches answered out of order: 20-39 first, then 0-19, then 40-59.
  for (let slot = 20; slot < 40; slot++) ids.fill(slot, answers, slot * ID);
  assert.equal(ids.known, 0, 'nothing from the first yet');
  for (let slot = 0; slot < 19; slot++) ids.fill(slot, answers, slot * ID);
  assert.equal(ids.known, 19);
  ids.fill(19, answers, 19 * ID);
  assert.equal(ids.known, 40, 'the run already in counts once the gap before it closes');
  // More reserved (the array grows) while some are still out.
  for (let i = 60; i < 100; i++) ids.reserve();
  for (let slot = 41; slot < 100; slot++) ids.fill(slot, answers, slot * ID);
  assert.equal(ids.known, 40);
  assert.deepEqual(Buffer.from(ids.current.subarray(0, 40 * ID)), answers.subarray(0, 40 * ID), 'the known ids, in the array as it is now');
  ids.fill(40, answers, 40 * ID);
  assert.equal(ids.known, 100);
  assert.deepEqual(Buffer.from(ids.current.subarray(0, 100 * ID)), answers);
});
