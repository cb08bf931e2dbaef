import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { SealedInRun } from '../../../src/core/jobs/sealed-in-run.js';
import { IndexedIds } from '../../../src/core/repo/indexed-ids.js';
import { MasterIndex } from '../../../src/core/repo/master-index.js';

const id = (n: number) => createHash('sha256').update(`chunk ${n}`).digest();

function indexOf(from: number, to: number): MasterIndex {
  const index = new MasterIndex();
  const entries = [];
  for (let n = from; n < to; n++) entries.push({ id: id(n), type: 'data' as const, offset: (n - from) * 10, length: 10, rawLength: 10 });
  index.addPack({ id: 'ab'.repeat(32), size: (to - from) * 10, entries });
  return index;
}

test('a chunk is claimed for sealing once in a run, never when the index holds it', () => {
  const sealed = new SealedInRun(16);
  const indexed = IndexedIds.attach(indexOf(0, 10).sharedIds());
  for (let n = 0; n < 10; n++) assert.equal(sealed.claim(id(n), indexed), false, 'stored before the run');
  assert.equal(sealed.claim(id(10), indexed), true);
  assert.equal(sealed.claim(id(10), indexed), false, 'sealed already in this run');
  assert.equal(sealed.claim(id(10), null), false, 'before the worker was given the index too');
});

test('ids the index shows are let go of when the set doubles; ids of packs not yet written are kept', () => {
  const sealed = new SealedInRun(16);
  // Ids 0-99 sealed, then their packs written: a later view of the index holds them.
  for (let n = 0; n < 100; n++) assert.equal(sealed.claim(id(n), null), true);
  const written = IndexedIds.attach(indexOf(0, 100).sharedIds());
  assert.equal(sealed.size, 100, 'no view of the index yet: nothing could be let go of');
  // Ids 100 on go into packs still open: the sweep keeps them and drops 0-99.
  for (let n = 100; n < 116; n++) assert.equal(sealed.claim(id(n), written), true);
  assert.ok(sealed.size < 100, `swept down to ${sealed.size}`);
  for (let n = 100; n < 116; n++) assert.equal(sealed.claim(id(n), written), false, 'an open pack\'s id is still known');
  for (let n = 0; n < 100; n++) assert.equal(sealed.claim(id(n), written), false, 'and a written one is known through the index');
  // Growth past the sweep point again: only the unwritten ids stay, never fewer.
  for (let n = 116; n < 400; n++) sealed.claim(id(n), written);
  assert.ok(sealed.size <= 300 && sealed.size >= 16, `${sealed.size} ids kept`);
  for (let n = 100; n < 400; n++) assert.equal(sealed.claim(id(n), written), false);
});
