import assert from 'node:assert/strict';
import { test } from 'node:test';
import { copyBytes } from '../../../src/core/jobs/copy-bytes.js';

test('bytes are copied exactly, into and out of shared memory, at any alignment, and nothing else is touched', () => {
  const source = Uint8Array.from({ length: 5000 }, (_, i) => (i * 7 + 3) & 255);
  for (const shared of [true, false]) {
    for (const [from, at] of [
      [0, 0],
      [1, 0],
      [0, 3],
      [5, 13],
    ] as const) {
      const target = new Uint8Array(shared ? new SharedArrayBuffer(6000) : new ArrayBuffer(6000)).fill(0xee);
      const part = source.subarray(from, from + 4096);
      copyBytes(target, at, part);
      assert.deepEqual(target.subarray(at, at + part.length), part, `shared ${shared}, from ${from}, at ${at}`);
      assert.ok(target.subarray(0, at).every((b) => b === 0xee) && target.subarray(at + part.length).every((b) => b === 0xee), 'only the range is written');
      // And back out of it, into ordinary memory.
      const back = new Uint8Array(4100);
      copyBytes(back, 1, target.subarray(at, at + part.length));
      assert.deepEqual(back.subarray(1, 4097), part);
    }
  }
});

test('copying nothing writes nothing; a source that does not fit is refused before anything is written', () => {
  const target = new Uint8Array(new SharedArrayBuffer(8)).fill(1);
  copyBytes(target, 8, new Uint8Array(0));
  assert.deepEqual([...target], [1, 1, 1, 1, 1, 1, 1, 1]);
  assert.throws(() => copyBytes(target, 5, new Uint8Array(4)), RangeError);
  assert.throws(() => copyBytes(target, -1, new Uint8Array(1)), RangeError);
  assert.deepEqual([...target], [1, 1, 1, 1, 1, 1, 1, 1]);
});
