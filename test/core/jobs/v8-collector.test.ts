import assert from 'node:assert/strict';
import { test } from 'node:test';
import { getHeapStatistics } from 'node:v8';
import { collectAllGarbage, v8Collector } from '../../../src/core/jobs/v8-collector.js';

test('V8 hands out its collector at run time, once', () => {
  const gc = v8Collector();
  assert.equal(typeof gc, 'function');
  assert.equal(v8Collector(), gc);
});

test('a full collection frees what a job just dropped, old generation included', () => {
  // 200,000 distinct 64-character strings, about 16 MB, held long enough to be promoted.
  let held: string[] | null = Array.from({ length: 200_000 }, (_, i) => i.toString(16).padStart(64, '0'));
  collectAllGarbage();
  const holding = getHeapStatistics().used_heap_size;
  assert.equal(held.length, 200_000);
  held = null;
  collectAllGarbage();
  const freed = holding - getHeapStatistics().used_heap_size;
  assert.ok(freed > 12 * 1024 * 1024, `freed ${(freed / 1048576).toFixed(1)} MiB`);
});
