import assert from 'node:assert/strict';
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { writeFullySync } from '../../../src/core/storage/write-fully.js';
import { tempDir } from '../../helpers/tmp.js';

/** A blocking write that takes at most `max` bytes a call, and takes nothing once `budget` is spent. */
function stingyWrite(max: number, budget: number): typeof writeSync {
  let left = budget;
  return ((fd: number, data: Uint8Array, offset: number, length: number, position: number) => {
    const n = Math.min(max, length, left);
    left -= n;
    return n === 0 ? 0 : writeSync(fd, data, offset, n, position);
  }) as typeof writeSync;
}

test('writeFullySync writes everything through short writes, and fails as ENOSPC on a write that makes no progress', () => {
  const { dir, cleanup } = tempDir();
  try {
    const data = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 251));
    const path = join(dir, 'f');
    const fd = openSync(path, 'w');
    try {
      writeFullySync(fd, data, 900, 100, stingyWrite(7, Infinity));
      assert.deepEqual(readFileSync(path).subarray(100), data.subarray(0, 900));
      assert.throws(() => writeFullySync(fd, data, 1000, 0, stingyWrite(64, 300)), (e: NodeJS.ErrnoException) => e.code === 'ENOSPC');
    } finally {
      closeSync(fd);
    }
  } finally {
    cleanup();
  }
});
