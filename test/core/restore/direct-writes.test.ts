import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { closeSync, constants as fsc, existsSync, openSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { DIRECT_MIN_BYTES, DIRECT_OPEN_FLAGS, DirectFile, DirectStages } from '../../../src/core/restore/direct-writes.js';
import { TargetWriter } from '../../../src/core/restore/target-writer.js';
import { withTempDir } from '../../helpers/cli.js';

/** The same file opened for direct writes and through the page cache, or null (and the test skipped) where the file system refuses. */
function openBoth(t: TestContext, path: string): { direct: number; cached: number } | null {
  const cached = openSync(path, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL, 0o600);
  try {
    return { direct: openSync(path, DIRECT_OPEN_FLAGS!), cached };
  } catch (e) {
    closeSync(cached);
    t.skip(`this file system refuses direct writes (${(e as NodeJS.ErrnoException).code}); the page-cache fallback is tested below`);
    return null;
  }
}

/** Pieces of awkward sizes around blocks and stages, as a restore's batches hand them over. */
const PIECES = [1, 4095, 4097, 100, 1024 * 1024 + 3, 8192, 2 * 1024 * 1024 - 5, 77, 300_000];

async function writeInPieces(file: DirectFile, data: Buffer): Promise<void> {
  let at = 0;
  for (let k = 0; at < data.length; k++) {
    const n = Math.min(PIECES[k % PIECES.length]!, data.length - at);
    await file.write(data.subarray(at, at + n));
    at += n;
  }
}

for (const size of [0, 100, 4095, 4096, 3 * 1024 * 1024, 3 * 1024 * 1024 + 12_345, 5_000_001]) {
  test(`a file of ${size} bytes written direct, in pieces of awkward sizes, reads back whole and ends at its size (its last partial block through the page cache)`, { skip: DIRECT_OPEN_FLAGS === null && 'no O_DIRECT on this platform' }, (t) =>
    withTempDir('direct', async (dir) => {
      const path = join(dir, 'f');
      const fds = openBoth(t, path);
      if (!fds) return;
      const stages = new DirectStages(2);
      const data = randomBytes(size);
      const file = new DirectFile(stages, fds.direct, fds.cached);
      await writeInPieces(file, data);
      await file.end();
      file.close();
      closeSync(fds.cached);
      assert.equal(statSync(path).size, size);
      assert.ok(readFileSync(path).equals(data));
      assert.equal(stages.usable, true, 'the file system took the direct writes');
    }));
}

test('a file system that refuses a direct write (here: a stage off its page) gets the same bytes through the page cache, and the restore stops trying', { skip: DIRECT_OPEN_FLAGS === null && 'no O_DIRECT on this platform' }, (t) =>
  withTempDir('direct', async (dir) => {
    const path = join(dir, 'f');
    const fds = openBoth(t, path);
    if (!fds) return;
    // One byte off: no device takes that.
    const stages = new DirectStages(2, 1);
    const data = randomBytes(2 * 1024 * 1024 + 999);
    const file = new DirectFile(stages, fds.direct, fds.cached);
    await writeInPieces(file, data);
    await file.end();
    file.close();
    closeSync(fds.cached);
    assert.equal(stages.usable, false);
    assert.ok(readFileSync(path).equals(data));
  }));

test('a write that fails for another reason fails the file when it ends, after every write on its way has settled', { skip: DIRECT_OPEN_FLAGS === null && 'no O_DIRECT on this platform' }, (t) =>
  withTempDir('direct', async (dir) => {
    const path = join(dir, 'f');
    const fds = openBoth(t, path);
    if (!fds) return;
    const stages = new DirectStages(2);
    // A descriptor open for reading only: every write is refused with EBADF, which is not a fallback case.
    const readOnly = openSync(path, fsc.O_RDONLY);
    const file = new DirectFile(stages, readOnly, readOnly);
    const data = randomBytes(3 * 1024 * 1024);
    await assert.rejects(async () => {
      await writeInPieces(file, data);
      await file.end();
    }, { code: 'EBADF' });
    await file.settle();
    // Both stages came back: two more files can take one each at once.
    const a = stages.take();
    const b = stages.take();
    assert.ok(Buffer.isBuffer(a) && Buffer.isBuffer(b), 'every stage was given back');
    closeSync(readOnly);
    closeSync(fds.direct);
    closeSync(fds.cached);
  }));

test('a restore writes large files direct and small ones through the page cache, with modes and times, and an abort waits for its writes', () =>
  withTempDir('direct', async (dir) => {
    const w = new TargetWriter(dir, false);
    const sizes = { 'large.mp4': DIRECT_MIN_BYTES * 9 + 123, 'small.jpg': DIRECT_MIN_BYTES - 1, 'exact.db': DIRECT_MIN_BYTES * 4 };
    await w.prepare([...Object.keys(sizes), 'half.mp4'].map((relPath) => ({ relPath, type: 'file' as const })));
    const contents = new Map<string, Buffer>();
    for (const [rel, size] of Object.entries(sizes)) {
      const data = randomBytes(size);
      contents.set(rel, data);
      const f = await w.openFile(rel, size);
      for (let at = 0; at < size; at += 700_001) await f.write(data.subarray(at, at + 700_001));
      await f.commit(0o640, '1700000000123000000');
    }
    const half = w.beginFile('half.mp4', DIRECT_MIN_BYTES * 8);
    await half.write(randomBytes(DIRECT_MIN_BYTES * 5));
    await half.abort();
    await w.finish();
    assert.deepEqual(readdirSync(dir).sort(), ['exact.db', 'large.mp4', 'small.jpg']);
    for (const [rel, data] of contents) {
      const st = statSync(join(dir, rel));
      assert.equal(st.size, data.length, rel);
      assert.equal(st.mode & 0o777, 0o640, rel);
      assert.equal(Math.floor(st.mtimeMs), 1700000000123, rel);
      assert.ok(readFileSync(join(dir, rel)).equals(data), rel);
    }
    assert.equal(existsSync(join(dir, 'half.mp4')), false);
  }));
