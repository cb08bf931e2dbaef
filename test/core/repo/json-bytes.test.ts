import assert from 'node:assert/strict';
import { test } from 'node:test';
import { JsonBytes } from '../../../src/core/repo/json-bytes.js';

test('JSON written as bytes reads back as the values written, past its first buffer', () => {
  const numbers = [0, 1, 9, 10, 99, 100, 4096, 123_456_789, 2 ** 32, 2 ** 40 + 7, Number.MAX_SAFE_INTEGER];
  const ids = [Buffer.alloc(0), Buffer.from([0, 1, 15, 16, 127, 128, 254, 255]), Buffer.alloc(32, 0xab)];
  const w = new JsonBytes(8);
  w.ascii('{"numbers":[');
  numbers.forEach((n, i) => w.ascii(i === 0 ? '' : ',').uint(n));
  w.ascii('],"ids":[');
  ids.forEach((id, i) => w.ascii(i === 0 ? '' : ',').hexString(id, 0, id.length));
  w.ascii('],"part":').hexString(Buffer.from([1, 2, 3, 4]), 1, 3).ascii('}');
  const text = w.bytes().toString('latin1');
  assert.equal(text, JSON.stringify({ numbers, ids: ids.map((b) => b.toString('hex')), part: '0203' }));
});

test('only non-negative safe integers are written as numbers', () => {
  const w = new JsonBytes(16);
  for (const bad of [-1, 1.5, Number.MAX_SAFE_INTEGER + 1, Number.NaN, Number.POSITIVE_INFINITY]) assert.throws(() => w.uint(bad), RangeError);
  assert.equal(w.bytes().length, 0, 'nothing is written for a refused number');
});
