import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ParsedCache } from '../../../src/core/repo/parsed-cache.js';

test('the parsed cache stays within its bytes, dropping the least recently used first', () => {
  const c = new ParsedCache<string>(100, 10);
  c.set('parent', 'p', 50);
  c.set('small', 's', 10);
  assert.equal(c.bytes, 60);
  assert.equal(c.get('parent'), 'p'); // now the most recently used
  c.set('new', 'n', 45); // 105 > 100: only 'small', the least recently used, goes
  assert.equal(c.get('small'), undefined);
  assert.equal(c.get('parent'), 'p');
  assert.equal(c.bytes, 95);
  c.set('newer', 'm', 60); // 'new' (45) then 'parent' (50) go
  assert.equal(c.get('new'), undefined);
  assert.equal(c.get('parent'), undefined);
  assert.equal(c.get('newer'), 'm');
  assert.equal(c.bytes, 60);
  assert.equal(c.size, 1);
});

test('the parsed cache keeps nothing larger than its bound, and counts each id once', () => {
  const c = new ParsedCache<string>(100, 10);
  c.set('a', 'a', 40);
  c.set('huge', 'h', 101);
  assert.equal(c.get('huge'), undefined);
  assert.equal(c.get('a'), 'a', 'a tree too large to keep does not push the others out');
  c.set('a', 'again', 40);
  assert.equal(c.bytes, 40);
  assert.equal(c.get('a'), 'a');
});

test('the parsed cache is bounded in count as well', () => {
  const c = new ParsedCache<number>(1_000_000, 3);
  for (let i = 0; i < 5; i++) c.set(`t${i}`, i, 1);
  assert.equal(c.size, 3);
  assert.deepEqual([0, 1, 2, 3, 4].map((i) => c.get(`t${i}`)), [undefined, undefined, 2, 3, 4]);
});

test('a cleared parsed cache holds nothing and fills again from nothing', () => {
  const c = new ParsedCache<number>(100, 10);
  c.set('a', 1, 60);
  c.set('b', 2, 30);
  c.clear();
  assert.equal(c.size, 0);
  assert.equal(c.bytes, 0);
  assert.equal(c.get('a'), undefined);
  c.set('c', 3, 100);
  assert.equal(c.get('c'), 3, 'the whole bound is free again');
});
