import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PieceFiller } from '../../../src/core/repo/piece-filler.js';

test('fields fill in order from pieces cut anywhere, and a field may ask for the next ones', () => {
  const bytes = Buffer.from([2, 10, 11, 3, 20, 21, 22]);
  for (const cut of [1, 2, 3, 7]) {
    const fields = new PieceFiller();
    const got: number[][] = [];
    const length = Buffer.alloc(1);
    // A length, that many bytes, then an empty field, a length again and its bytes.
    fields.expect(length, () => {
      const first = Buffer.alloc(length[0]!);
      fields.expect(first, () => {
        got.push([...first]);
        fields.expect(new Uint8Array(0), () => got.push([]));
        const again = Buffer.alloc(1);
        fields.expect(again, () => {
          const second = Buffer.alloc(again[0]!);
          fields.expect(second, () => got.push([...second]));
        });
      });
    });
    for (let at = 0; at < bytes.length; at += cut) {
      assert.equal(fields.complete, false);
      assert.equal(fields.push(bytes.subarray(at, at + cut)), true, `cut every ${cut}`);
    }
    assert.equal(fields.complete, true);
    assert.deepEqual(got, [[10, 11], [], [20, 21, 22]], `cut every ${cut}`);
  }
});

test('bytes past the last field asked for are refused, and a field waits for all of its bytes', () => {
  const fields = new PieceFiller();
  const field = Buffer.alloc(3);
  let full = false;
  fields.expect(field, () => (full = true));
  assert.equal(fields.push(Buffer.from([1, 2])), true);
  assert.equal(full, false);
  assert.equal(fields.complete, false);
  assert.equal(fields.push(Buffer.from([3, 4])), false, 'one byte too many');
  assert.equal(full, true);
  assert.deepEqual([...field], [1, 2, 3]);
});
