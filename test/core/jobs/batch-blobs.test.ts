import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { BatchBuilder, batchOf } from '../../../src/core/jobs/batch-blobs.js';
import { BLOB_TYPES } from '../../../src/core/repo/blob.js';

test('a batch keeps each blob\'s type, id and span in order, past its first capacity, from hex or bytes', () => {
  const blobs = Array.from({ length: 300 }, (_, i) => ({ type: i % 7 === 0 ? ('tree' as const) : ('data' as const), id: randomBytes(32), offset: i * 5000, length: 4000 + i, rawLength: 3000 + 2 * i }));
  const fromHex = new BatchBuilder(4);
  for (const b of blobs) fromHex.add(b.type, b.id.toString('hex'), b.offset, b.length, b.rawLength);
  assert.equal(fromHex.count, blobs.length);
  for (const batch of [fromHex.build(), batchOf(blobs)]) {
    assert.equal(batch.types.length, blobs.length);
    assert.equal(batch.ids.length, 32 * blobs.length);
    assert.equal(batch.spans.length, 3 * blobs.length);
    blobs.forEach((b, i) => {
      assert.equal(batch.types[i], BLOB_TYPES[b.type]);
      assert.deepEqual(Buffer.from(batch.ids.subarray(32 * i, 32 * (i + 1))), b.id);
      assert.deepEqual([...batch.spans.subarray(3 * i, 3 * i + 3)], [b.offset, b.length, b.rawLength]);
    });
  }
  assert.throws(() => new BatchBuilder().add('data', 'ab'.repeat(31), 0, 1, 1), /32 bytes/);
  assert.throws(() => new BatchBuilder().add('data', 'zz'.repeat(32), 0, 1, 1), /32 bytes/);
  assert.throws(() => new BatchBuilder().add('data', new Uint8Array(31), 0, 1, 1), /32 bytes/);
  const empty = new BatchBuilder().build();
  assert.equal(empty.types.length + empty.ids.length + empty.spans.length, 0);
});
