import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { JobProgress } from '../../../src/core/jobs/progress.js';
import { importProgressListener, testPause } from '../../../src/core/importers/progress.js';

describe('import progress as job progress', () => {
  test('no listener, no adapter', () => {
    assert.equal(importProgressListener(undefined, 10), undefined);
  });

  test('counts, totals, pace and an ETA from the rate since the listener joined the step', (t) => {
    t.mock.timers.enable({ apis: ['Date'], now: 1_000_000 });
    const seen: JobProgress[] = [];
    const on = importProgressListener((p) => seen.push(p), 300_000)!;
    // Joined while the import was already at 80,000 (the files were being stored meanwhile).
    on({ phase: 'reading', done: 80_000, total: null });
    assert.deepEqual(seen[0]!.importStep, { step: 'reading', done: 80_000, total: 300_000 });
    assert.equal(seen[0]!.phase, 'importing');
    assert.equal(seen[0]!.etaSeconds, null);
    t.mock.timers.tick(100);
    on({ phase: 'reading', done: 82_000, total: null });
    assert.equal(seen.length, 1, 'at most a few events a second');
    t.mock.timers.tick(900);
    on({ phase: 'reading', done: 100_000, total: null });
    // 20,000 messages in one second, 200,000 to go.
    assert.equal(seen[1]!.etaSeconds, 10);
    on({ phase: 'hashing-media', done: 1, total: 40 });
    assert.deepEqual(seen[2]!.importStep, { step: 'hashing-media', done: 1, total: 40 }, 'a new step shows at once');
  });
});

test('the end-to-end pause at reading checkpoints is whole milliseconds up to a second, and nothing otherwise', () => {
  assert.equal(testPause(undefined), 0);
  assert.equal(testPause('100'), 100);
  assert.equal(testPause('0'), 0);
  assert.equal(testPause('5000'), 1000, 'capped');
  for (const bad of ['', '-5', '1.5', '1e3', 'abc', '100000']) assert.equal(testPause(bad), 0, `"${bad}"`);
});
