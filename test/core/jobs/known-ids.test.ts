import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { KnownIdTable } from '../../../src/core/jobs/known-ids.js';

const id = (n: number) => createHash('sha256').update(`blob ${n}`).digest();

test('known ids are found and others are not, up to three quarters full, repeats counted once', () => {
  for (const count of [0, 1, 12, 13, 100, 3072, 3073, 20_000]) {
    const ids = Array.from({ length: count }, (_, i) => id(i));
    const table = KnownIdTable.build([...ids, ...ids.slice(0, 10)], count);
    const slots = table.slotCount;
    assert.equal(table.buffer.byteLength, slots * 16, 'each slot holds the first 16 bytes of an id');
    assert.ok(count * 4 <= slots * 3, `${count} ids in ${slots} slots`);
    assert.equal(slots, Math.max(16, Math.ceil((count * 4) / 3)), `${slots} slots is just what ${count} ids need`);
    for (const known of ids) assert.equal(table.has(known), true);
    for (let i = count; i < count + 2000; i++) assert.equal(table.has(id(i)), false);
    const shared = KnownIdTable.attach(table.buffer);
    if (count > 0) assert.equal(shared.has(ids[count - 1]!), true, 'a worker attached to the same memory sees the same ids');
  }
});

test('known ids are told apart by their first 16 bytes', () => {
  const known = id(1);
  const table = KnownIdTable.build([known], 1);
  const sameStart = Buffer.from(known);
  sameStart[31] = sameStart[31]! ^ 1;
  assert.equal(table.has(sameStart), true);
  const otherStart = Buffer.from(known);
  otherStart[15] = otherStart[15]! ^ 1;
  assert.equal(table.has(otherStart), false);
});
