import assert from 'node:assert/strict';
import { test } from 'node:test';
import { splitIntoLanes } from '../../../src/core/restore/restore.js';

const files = (...sizes: number[]) => sizes.map((size, i) => ({ name: `f${i}`, size }));
const names = (lanes: Array<Array<{ name: string }>>) => lanes.map((l) => l.map((f) => f.name));

test('splitIntoLanes cuts the files, in order, into runs of about equal bytes', () => {
  // A chat export: the database first, then many media files.
  const lanes = splitIntoLanes(files(200, ...Array.from({ length: 80 }, () => 10)), 2);
  assert.equal(lanes.length, 2);
  assert.deepEqual(lanes.flat().map((f) => f.name), Array.from({ length: 81 }, (_, i) => `f${i}`), 'every file once, in restore order');
  const bytes = lanes.map((l) => l.reduce((n, f) => n + f.size, 0));
  assert.deepEqual(bytes, [500, 500]);
});

test('splitIntoLanes never makes an empty lane, nor more lanes than files', () => {
  assert.deepEqual(splitIntoLanes([], 2), []);
  assert.deepEqual(names(splitIntoLanes(files(5), 2)), [['f0']]);
  // One file holds more than a lane's share: the next lane starts after it.
  assert.deepEqual(names(splitIntoLanes(files(100, 1, 1), 2)), [['f0'], ['f1', 'f2']]);
  assert.deepEqual(names(splitIntoLanes(files(1, 1, 100), 2)), [['f0', 'f1'], ['f2']]);
  // Nothing to balance: one lane.
  assert.deepEqual(names(splitIntoLanes(files(0, 0, 0), 2)), [['f0', 'f1', 'f2']]);
  assert.deepEqual(names(splitIntoLanes(files(3, 3, 3, 3), 1)), [['f0', 'f1', 'f2', 'f3']]);
});

test('splitIntoLanes makes at most the lanes asked for', () => {
  const lanes = splitIntoLanes(files(1, 1, 1, 1, 1, 1, 1), 3);
  assert.deepEqual(names(lanes), [['f0', 'f1'], ['f2', 'f3', 'f4'], ['f5', 'f6']]);
});
