import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatBytes, formatCount, plural } from '../../../src/core/importers/format.js';

test('counts are grouped in thousands exactly as en-US formatting groups them', () => {
  const samples = [0, 1, 7, 999, 1000, 1204, 9999, 10_000, 333_500, 1_000_000, 1_004_000, 2 ** 31, Number.MAX_SAFE_INTEGER, -1, -1234, -1_000_000, 1.5, 1234.5678];
  for (let n = 1; n < 1e15; n = n * 7 + 3) samples.push(n);
  for (const n of samples) assert.equal(formatCount(n), n.toLocaleString('en-US'), String(n));
  assert.equal(plural(1, 'chat'), '1 chat');
  assert.equal(plural(333_500, 'message'), '333,500 messages');
  assert.equal(formatBytes(1_117_036_544), '1.1 GB');
});
