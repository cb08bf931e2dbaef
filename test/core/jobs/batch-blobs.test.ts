import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { blobId } from '../../../src/core/crypto/ids.js';
import { IntegrityError } from '../../../src/core/errors.js';
import { BatchBuilder, batchOf, InPlaceRoom } from '../../../src/core/jobs/batch-blobs.js';
import { CryptoPool } from '../../../src/core/jobs/crypto-pool.js';
import { BLOB_TYPES, blobPayload, sealedBlobBound, sealPayloadInto } from '../../../src/core/repo/blob.js';

test('a batch keeps each blob\'s type, id and span in order, past its first capacity, from hex, bytes or a list of ids', () => {
  const blobs = Array.from({ length: 300 }, (_, i) => ({ type: i % 7 === 0 ? ('tree' as const) : ('data' as const), id: randomBytes(32), offset: i * 5000, length: 4000 + i, rawLength: 3000 + 2 * i }));
  const fromHex = new BatchBuilder(4);
  for (const b of blobs) fromHex.add(b.type, b.id.toString('hex'), b.offset, b.length, b.rawLength);
  assert.equal(fromHex.count, blobs.length);
  // A chunk list's bytes, with a stray id either side, as a file's list sits in its tree's arena.
  const arena = Buffer.concat([randomBytes(32), ...blobs.map((b) => b.id), randomBytes(32)]);
  const fromList = new BatchBuilder(4);
  blobs.forEach((b, i) => fromList.addFrom(b.type, arena, 32 * (i + 1), b.offset, b.length, b.rawLength));
  for (const batch of [fromHex.build(), batchOf(blobs), fromList.build()]) {
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
  assert.throws(() => new BatchBuilder().add('data', new Uint8Array(33), 0, 1, 1), /32 bytes/);
  assert.throws(() => new BatchBuilder().addFrom('data', arena, arena.length - 31, 0, 1, 1), /32 bytes/);
  assert.throws(() => new BatchBuilder().addFrom('data', arena, -1, 0, 1, 1), /32 bytes/);
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
  const opened = await pool.openBatch(sealedAll.subarray(0, at), batch.build(), packs);
  assert.deepEqual(opened, Buffer.concat(plains));

  const damaged = new Uint8Array(sealedAll.subarray(0, at));
  damaged[at - 5]! ^= 1; // inside the last blob, read from the second pack
  await assert.rejects(pool.openBatch(Buffer.from(damaged.buffer), batch.build(), packs), (e: unknown) => e instanceof IntegrityError && e.message.includes('data/bb/bb22') && !e.message.includes('data/aa/aa11'));
});

test('the room of a batch opened in place: seals at the end, plaintexts from the start, never overtaking a seal not yet opened', () => {
  // Compressed blobs only: their plaintexts are what takes room.
  const compressed = new InPlaceRoom();
  for (let i = 0; i < 3; i++) compressed.add(i * 100, 100, 1000);
  assert.deepEqual([compressed.sealed, compressed.plain, compressed.bytes], [300, 3000, 3000]);

  // A compressed blob, then a stored one: the first plaintext (4000 bytes) must end before the
  // second seal starts, so the buffer needs more than either total.
  const mixed = new InPlaceRoom();
  mixed.add(0, 100, 4000);
  assert.equal(mixed.bytesWith(100, 1000, 971), 5000);
  mixed.add(100, 1000, 971);
  assert.deepEqual([mixed.sealed, mixed.plain, mixed.bytes], [1100, 4971, 5000]);

  // Stored blobs: a plaintext is shorter than its seal, so the seals' bytes are enough.
  const stored = new InPlaceRoom();
  for (let i = 0; i < 4; i++) stored.add(i * 1029, 1029, 1000);
  assert.equal(stored.bytes, 4 * 1029);

  // A blob that comes again points back at its first seal: it adds plaintext, not seal.
  assert.equal(stored.bytesWith(0, 1029, 1000), 5000);
  stored.add(0, 1029, 1000);
  assert.deepEqual([stored.sealed, stored.plain, stored.bytes], [4 * 1029, 5000, 5000]);

  assert.throws(() => stored.add(5 * 1029, 10, 10), /must follow the last one/);
});

/** Seals `plains` into a batch laid out to be opened in place; a blob given as a number repeats that earlier one. */
function inPlaceBatch(keys: { data: Buffer; blobId: Buffer }, plains: Array<Buffer | number>, slack = 0): { buffer: ArrayBuffer; base: number; batch: BatchBuilder; expected: Buffer } {
  const seals: Buffer[] = [];
  const room = new InPlaceRoom();
  const batch = new BatchBuilder(1);
  const at: number[] = [];
  const data: Buffer[] = [];
  for (const p of plains) {
    const plain = typeof p === 'number' ? data[p]! : p;
    const id = blobId(keys.blobId, plain);
    if (typeof p === 'number') {
      batch.add('data', id, at[p]!, seals[p]!.length, plain.length);
      room.add(at[p]!, seals[p]!.length, plain.length);
      seals.push(seals[p]!);
      at.push(at[p]!);
    } else {
      const seal = Buffer.alloc(sealedBlobBound(plain.length));
      const length = sealPayloadInto(seal, 0, keys.data, 'data', id, blobPayload('data', plain, true));
      at.push(room.sealed);
      batch.add('data', id, room.sealed, length, plain.length);
      room.add(room.sealed, length, plain.length);
      seals.push(seal.subarray(0, length));
    }
    data.push(plain);
  }
  const buffer = new ArrayBuffer(room.bytes + slack);
  const base = buffer.byteLength - room.sealed;
  let o = base;
  seals.forEach((seal, i) => {
    if (typeof plains[i] === 'number') return;
    Buffer.from(buffer).set(seal, o);
    o += seal.length;
  });
  return { buffer, base, batch, expected: Buffer.concat(data) };
}

test('a batch opened in place holds its plaintexts in its own buffer: compressed, stored and repeated blobs, in the tightest room', async (t) => {
  const keys = { data: randomBytes(32), blobId: randomBytes(32) };
  const pool = new CryptoPool(keys, 1);
  t.after(() => pool.close());
  const page = (n: number) => Buffer.concat([Buffer.from(`page ${n} `), Buffer.alloc(4090, n)]);
  // Pages that compress well, with repeats, then a stored blob: the pages' plaintexts got ahead of
  // the seals, which sets the room, above the plaintexts' own bytes.
  const lead = inPlaceBatch(keys, [page(1), page(2), 0, page(3), 1, randomBytes(20000)]);
  assert.ok(lead.buffer.byteLength > lead.expected.length);
  assert.deepEqual(await pool.openBatchInPlace(lead.buffer, lead.base, lead.batch.build(), ['data/aa/aa11']), lead.expected);
  assert.equal(lead.buffer.byteLength, 0, 'the buffer moved to the worker');

  // Repeats of the first page after the stored blob's plaintext has covered that page's seal.
  const over = inPlaceBatch(keys, [page(1), randomBytes(20000), 0, 0]);
  const firstSeal = over.batch.build().spans[1]!;
  assert.ok(4098 + 20000 > over.base + firstSeal, 'the first seal is overwritten before its repeats');
  const plain = await pool.openBatchInPlace(over.buffer, over.base, over.batch.build(), ['data/aa/aa11']);
  assert.equal(plain.byteOffset, 0);
  assert.deepEqual(plain, over.expected);

  // Random data: stored blobs, four of 1 MiB with seals from 1 KiB into the buffer.
  const big = inPlaceBatch(keys, [randomBytes(1 << 20), randomBytes(1 << 20), randomBytes(1 << 20), randomBytes(1 << 20)], 1024);
  assert.deepEqual(await pool.openBatchInPlace(big.buffer, big.base, big.batch.build(), ['data/bb/bb22']), big.expected);
});

test('a batch opened in place is refused when its room is short, and a damaged blob is reported, without harm to the worker', async (t) => {
  const keys = { data: randomBytes(32), blobId: randomBytes(32) };
  const pool = new CryptoPool(keys, 1);
  t.after(() => pool.close());
  const plains = [Buffer.alloc(8000, 1), randomBytes(2000)];
  const tight = inPlaceBatch(keys, plains);
  // One byte less: the seals start a byte earlier, and the first plaintext would overwrite the second seal.
  const short = tight.buffer.slice(1);
  await assert.rejects(pool.openBatchInPlace(short, tight.base - 1, tight.batch.build(), ['data/aa/aa11']), /does not fit its buffer/);

  const damaged = inPlaceBatch(keys, plains);
  new Uint8Array(damaged.buffer)[damaged.buffer.byteLength - 5]! ^= 1;
  await assert.rejects(pool.openBatchInPlace(damaged.buffer, damaged.base, damaged.batch.build(), ['data/cc/cc33']), (e: unknown) => e instanceof IntegrityError && e.message.includes('data/cc/cc33'));

  const fine = inPlaceBatch(keys, plains);
  assert.deepEqual(await pool.openBatchInPlace(fine.buffer, fine.base, fine.batch.build(), ['data/aa/aa11']), fine.expected);
});
