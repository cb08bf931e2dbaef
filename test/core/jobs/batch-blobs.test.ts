import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { blobId } from '../../../src/core/crypto/ids.js';
import { IntegrityError } from '../../../src/core/errors.js';
import { BatchBuilder, batchOf } from '../../../src/core/jobs/batch-blobs.js';
import { CryptoPool } from '../../../src/core/jobs/crypto-pool.js';
import { BLOB_TYPES, blobPayload, sealedBlobBound, sealPayloadInto } from '../../../src/core/repo/blob.js';

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

test('a batch read from several packs opens every blob into place, and a damaged blob is reported in the pack it came from', async (t) => {
  const keys = { data: randomBytes(32), blobId: randomBytes(32) };
  const pool = new CryptoPool(keys, 1);
  t.after(() => pool.close());
  const plains = [randomBytes(5000), Buffer.alloc(3000, 7), randomBytes(100)];
  const packs = ['data/aa/aa11', 'data/bb/bb22'];
  const sealedAll = Buffer.alloc(plains.reduce((n, p) => n + sealedBlobBound(p.length), 0));
  const batch = new BatchBuilder(1);
  let at = 0;
  plains.forEach((p, i) => {
    const length = sealPayloadInto(sealedAll, at, keys.data, 'data', blobId(keys.blobId, p), blobPayload('data', p, true));
    batch.add('data', blobId(keys.blobId, p), at, length, p.length, i === 0 ? 0 : 1);
    at += length;
  });
  const opened = await pool.openBatchInto(new Uint8Array(sealedAll.subarray(0, at)).buffer, batch.build(), packs, null);
  assert.deepEqual(opened.plain, Buffer.concat(plains));

  const damaged = new Uint8Array(sealedAll.subarray(0, at));
  damaged[at - 5]! ^= 1; // inside the last blob, read from the second pack
  await assert.rejects(pool.openBatchInto(damaged.buffer, batch.build(), packs, null), (e: unknown) => e instanceof IntegrityError && e.message.includes('data/bb/bb22') && !e.message.includes('data/aa/aa11'));
});

test('shared buffers are named after their first use: every worker opens into them, round after round, and again after a restart', async (t) => {
  const keys = { data: randomBytes(32), blobId: randomBytes(32) };
  const pool = new CryptoPool(keys, 2);
  t.after(() => pool.close());
  const sealed = new SharedArrayBuffer(64 * 1024);
  const into = new SharedArrayBuffer(64 * 1024);
  const round = async (n: number) => {
    const plain = randomBytes(1000 + n);
    const id = blobId(keys.blobId, plain);
    const length = sealPayloadInto(Buffer.from(sealed), 0, keys.data, 'data', id, blobPayload('data', plain, false));
    const batch = new BatchBuilder(1);
    batch.add('data', id, 0, length, plain.length);
    const opened = await pool.openBatchInto(sealed, batch.build(), ['data/cc/cc33'], into);
    assert.equal(opened.sealed, sealed, 'the read buffer comes back as itself');
    assert.equal(opened.plain.buffer, into, 'the plaintext is in the shared buffer given');
    assert.deepEqual(opened.plain, plain);
  };
  // In turn, so that each round's buffers are free again; round-robin gives each worker several.
  for (let n = 0; n < 6; n++) await round(n);
  await pool.close();
  for (let n = 0; n < 2; n++) await round(n);
  // A moved buffer and a shared one in the same call.
  const plain = randomBytes(2000);
  const id = blobId(keys.blobId, plain);
  const moved = new ArrayBuffer(4096);
  const length = sealPayloadInto(Buffer.from(moved), 0, keys.data, 'data', id, blobPayload('data', plain, false));
  const batch = new BatchBuilder(1);
  batch.add('data', id, 0, length, plain.length);
  const opened = await pool.openBatchInto(moved, batch.build(), ['data/cc/cc33'], into);
  assert.equal(moved.byteLength, 0, 'a moved buffer is detached here');
  assert.deepEqual(opened.plain, plain);
});
