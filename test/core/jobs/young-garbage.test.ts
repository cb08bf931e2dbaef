import assert from 'node:assert/strict';
import { test } from 'node:test';
import { YoungGarbage } from '../../../src/core/jobs/young-garbage.js';

test('a minor collection runs each time the given number of cipher bytes has passed, and not before', () => {
  const calls: string[] = [];
  const g = new YoungGarbage(10, (o) => calls.push(o?.type ?? 'full'));
  g.add(4);
  g.add(5);
  assert.deepEqual(calls, []);
  g.add(1);
  assert.deepEqual(calls, ['minor']);
  g.add(25); // one collection however far past the mark
  g.add(9);
  assert.deepEqual(calls, ['minor', 'minor']);
});

test('V8 hands out its collector at run time here, so the crypto workers do collect early', () => {
  // The real collector: a minor collection must run without throwing.
  const g = new YoungGarbage(1);
  assert.equal(typeof (g as unknown as { collect: unknown }).collect, 'function');
  g.add(1);
});
