import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { shortHex } from '../../../src/core/crypto/ids.js';
import { BlobIdSet } from '../../../src/core/repo/blob-id-set.js';
import { ChunkList } from '../../../src/core/repo/chunk-list.js';

const id = (n: number) => createHash('sha256').update(`blob ${n}`).digest();

test('a blob id set holds each id once, given as bytes or as hex, through its growth', () => {
  const set = new BlobIdSet();
  const n = 50_000; // past several doublings of the arrays and the table
  for (let i = 0; i < n; i++) assert.equal(set.add(i % 2 === 0 ? id(i) : id(i).toString('hex')), true);
  assert.equal(set.size, n);
  for (let i = 0; i < n; i += 7) {
    assert.equal(set.add(id(i)), false);
    assert.equal(set.add(id(i).toString('hex')), false);
  }
  assert.equal(set.size, n);
  for (let i = 0; i < n; i += 3) assert.equal(set.has(i % 2 === 0 ? id(i).toString('hex') : id(i)), true);
  for (let i = n; i < n + 1000; i++) assert.equal(set.has(id(i)), false);
  const seen = [...set].map((b) => Buffer.from(b).toString('hex'));
  assert.deepEqual(seen, Array.from({ length: n }, (_, i) => id(i).toString('hex')));
});

test('ids that share their first bytes (the table\'s hash) are still told apart', () => {
  const set = new BlobIdSet();
  const a = Buffer.alloc(32, 1);
  const b = Buffer.alloc(32, 1);
  b[31] = 2;
  set.add(a);
  assert.equal(set.has(b), false);
  assert.equal(set.add(b), true);
  assert.equal(set.size, 2);
});

test('malformed ids are refused, and messages show an id\'s first 16 digits', () => {
  const set = new BlobIdSet();
  assert.throws(() => set.add(new Uint8Array(31)), /32 bytes/);
  assert.throws(() => set.has('ab'.repeat(31)), /64 lowercase hex/);
  assert.throws(() => set.add('AB'.repeat(32)), /64 lowercase hex/);
  assert.equal(set.size, 0);
  assert.equal(shortHex(id(1)), id(1).toString('hex').slice(0, 16));
  assert.equal(shortHex(id(1).toString('hex')), id(1).toString('hex').slice(0, 16));
});

test('a chunk list is added in place, repeats and ids already there counted once', () => {
  const set = new BlobIdSet();
  set.add(id(1));
  set.addAll(ChunkList.ofBytes(Buffer.concat([id(1), id(2), id(3), id(2)])));
  assert.equal(set.size, 3);
  assert.deepEqual([...set].map((b) => Buffer.from(b).toString('hex')), [1, 2, 3].map((n) => id(n).toString('hex')));
});


test('a set keeps only the ids asked for, in order, and finds exactly those afterwards', () => {
  const set = new BlobIdSet();
  for (let i = 0; i < 3000; i++) set.add(id(i));
  set.retainWhere((b) => b[0]! % 3 === 0);
  const kept = Array.from({ length: 3000 }, (_, i) => i).filter((i) => id(i)[0]! % 3 === 0);
  assert.equal(set.size, kept.length);
  assert.deepEqual([...set].map((b) => Buffer.from(b).toString('hex')), kept.map((i) => id(i).toString('hex')));
  for (let i = 0; i < 3000; i++) assert.equal(set.has(id(i)), id(i)[0]! % 3 === 0);
  assert.equal(set.add(id(kept[0]!)), false, 'a kept id is still there');
  set.retainWhere(() => false);
  assert.equal(set.size, 0);
  assert.equal(set.add(id(1)), true);
});
