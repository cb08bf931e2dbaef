import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { FileOpener, TargetWriter } from '../../../src/core/restore/target-writer.js';
import { withTempDir } from '../../helpers/cli.js';

/** Every name under `dir`, relative, sorted. */
function listing(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).map((n) => n.split('\\').join('/')).sort();
}

for (const target of ['empty', 'holding other files'] as const) {
  test(`FileOpener hands out the files in order; each appears under its name only once committed (target ${target})`, () =>
    withTempDir('opener', async (dir) => {
      if (target !== 'empty') writeFileSync(join(dir, 'other'), 'x');
      const writer = new TargetWriter(dir, false);
      const paths = Array.from({ length: 40 }, (_, i) => `f${String(i).padStart(2, '0')}`);
      await writer.prepare(paths.map((relPath) => ({ relPath, type: 'file' as const })));
      const opener = new FileOpener(writer, paths.map((relPath) => ({ relPath, size: relPath.length })), 8);
      const visible = () => listing(dir).filter((n) => !n.startsWith('.chatsafe-restoring-') && n !== 'other');
      for (const [i, relPath] of paths.entries()) {
        const out = await opener.take();
        // Into an empty target nothing shows before the end; beside other files, each file once committed.
        assert.equal(visible().length, target === 'empty' ? 0 : i, `before ${relPath} is committed`);
        await out.write(Buffer.from(relPath));
        await out.commit(0o640, '1700000000000000000');
      }
      await opener.close();
      await writer.finish();
      assert.deepEqual(visible(), paths);
      assert.deepEqual(listing(dir).length, paths.length + (target === 'empty' ? 0 : 1), 'no temporary file or folder is left');
      for (const p of paths) assert.equal(readFileSync(join(dir, p), 'utf8'), p);
      assert.throws(() => opener.take(), /every file was taken/);
    }));
}

test('FileOpener.close removes the files opened ahead but never taken, after a failure midway', () =>
  withTempDir('opener', async (dir) => {
    const writer = new TargetWriter(dir, false);
    mkdirSync(join(dir, 'sub'));
    const paths = ['a', 'sub/b', 'sub/c', 'd', 'e', 'f'];
    const opener = new FileOpener(writer, paths.map((relPath) => ({ relPath, size: 8 })), 4);
    const first = await opener.take();
    await first.write(Buffer.from('complete'));
    await first.commit(0o600, '1700000000000000000');
    const second = await opener.take();
    await second.write(Buffer.from('half'));
    await second.abort(); // as restore does when a blob fails authentication
    await opener.close();
    assert.deepEqual(listing(dir), ['a', 'sub']);
    assert.deepEqual(listing(join(dir, 'sub')), []);
  }));

test('a file that cannot be created fails when it is taken, not before, and the others are cleaned up', () =>
  withTempDir('opener', async (dir) => {
    const writer = new TargetWriter(dir, false);
    // `missing/x` cannot be created: its folder does not exist. Its open fails while `a` is being
    // written; that failure must wait for `take` (no unhandled rejection ends the process).
    const opener = new FileOpener(writer, ['a', 'missing/x', 'b', 'c'].map((relPath) => ({ relPath, size: 0 })), 4);
    const a = await opener.take();
    await new Promise((resolve) => setTimeout(resolve, 20));
    await a.commit(0o600, '1700000000000000000');
    await assert.rejects(opener.take(), { code: 'ENOENT' });
    await opener.close();
    assert.deepEqual(listing(dir), ['a']);
  }));
