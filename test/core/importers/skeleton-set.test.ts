import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SkeletonSet } from '../../../src/core/importers/skeleton-set.js';

test('a skeleton set holds every path added, across growth, and none of 200,000 others', () => {
  const set = new SkeletonSet();
  const paths = Array.from({ length: 30_000 }, (_, i) => `media/whatsapp images/img-2019${String(i % 1200).padStart(4, '0')}-wa${String(i).padStart(5, '0')}.jpg`);
  for (const p of paths) set.add(p);
  for (const p of paths.slice(0, 100)) set.add(p); // again: still one each
  assert.equal(set.size, paths.length);
  for (const p of paths) assert.equal(set.has(p), true, p);
  let found = 0;
  for (let i = 0; i < 200_000; i++) if (set.has(`media/whatsapp images/img-2019${String(i % 1200).padStart(4, '0')}-wa${String(i).padStart(5, '0')}.jpeg`)) found++;
  for (const p of ['', 'a', 'media', paths[0]!.slice(0, -1), `${paths[0]}x`, paths[0]!.toUpperCase()]) if (set.has(p)) found++;
  assert.equal(found, 0, 'paths never added are not found (a 53-bit hash: one in billions might be, and costs only a lookup)');
  const empty = new SkeletonSet();
  assert.equal(empty.has(''), false);
  empty.add('');
  assert.equal(empty.has(''), true);
});
