/**
 * Sources a backup must refuse before it stores anything, since the retention after it would drop
 * the last real backup: an empty argument (the working folder), a source that is not a file,
 * folder or link (stored as nothing), and a folder that holds the repository itself.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { describeRun, makeTempDir, runCli } from '../helpers/cli.js';
import { backupOf, initRepo, ok, repoArgs, snapshotIds, writeTree } from './scenario.js';

test('a backup of an empty path, a FIFO or a folder holding the repository is refused; the last backup stays', async (t) => {
  const tmp = makeTempDir('sources');
  t.after(() => tmp.remove());
  const src = join(tmp.path, 'src');
  writeTree(src, { random: { 'a.bin': 10_000 } }, 'v1');
  const repo = await initRepo(tmp.path);
  const first = await backupOf(repo, [src]);

  const fifo = join(tmp.path, 'pipe');
  execFileSync('mkfifo', [fifo]);
  const cases: Array<[string[], RegExp]> = [
    [[''], /A source path is empty/],
    [[fifo], /is not a file, folder or link/],
    [[src, fifo], /is not a file, folder or link/],
    [[tmp.path], /is inside the source/],
  ];
  for (const [sources, message] of cases) {
    const run = await runCli(['backup', ...repoArgs(repo), '--', ...sources], { cwd: tmp.path, timeoutMs: 30_000 });
    assert.equal(run.code, 2, describeRun(run));
    assert.match(run.stderr, message, describeRun(run));
    assert.equal(run.stdout, '', describeRun(run));
    assert.deepEqual(await snapshotIds(repo), [first], `the backup before is kept: ${describeRun(run)}`);
  }

  // The repository reached through a link to the folder that holds it.
  const link = join(tmp.path, 'linked');
  mkdirSync(link);
  execFileSync('ln', ['-s', tmp.path, join(link, 'up')]);
  const run = await runCli(['backup', ...repoArgs(repo), join(link, 'up')], { timeoutMs: 30_000 });
  assert.equal(run.code, 2, describeRun(run));
  await ok(['check', ...repoArgs(repo)]);
});
