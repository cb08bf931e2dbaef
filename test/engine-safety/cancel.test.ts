/**
 * Ctrl-C during a backup: the CLI stops promptly with "Cancelled", adds no
 * snapshot, and leaves a repository the next backup and a full check accept.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { collect, describeRun, makeTempDir, spawnCli } from '../helpers/cli.js';
import { backupOf, chatLikeSpec, hasLock, initRepo, ok, repoArgs, snapshotIds, waitFor, writeTree } from './scenario.js';

const tmp = makeTempDir('cancel');

/** The pack files of a folder repository (data/XX/NAME). */
function packFiles(repoPath: string): string[] {
  return (readdirSync(join(repoPath, 'data'), { recursive: true }) as string[]).filter((n) => /[0-9a-f]{64}$/.test(n));
}
after(() => tmp.remove());

test('SIGINT during a backup: exits promptly with "Cancelled", no snapshot added, the next backup and check --read-data pass', async () => {
  const repo = await initRepo(tmp.path);
  const small = join(tmp.path, 'small');
  writeTree(small, { text: { 'a.txt': 'first\n' } }, 'small');
  const before = await backupOf(repo, [small]);

  const src = join(tmp.path, 'src');
  writeTree(src, chatLikeSpec(120_000_000), 'cancel');
  const packsBefore = packFiles(repo.path).length;
  const child = spawnCli(['backup', ...repoArgs(repo), '--keep-last', '5', src]);
  const done = collect(child);
  await waitFor(() => hasLock(repo.path), 30_000, 'the backup to take its lock');
  // Mid-backup, whatever the machine's speed: its first pack is written and about 110 MB are still to go.
  await waitFor(() => packFiles(repo.path).length > packsBefore, 30_000, 'the backup to write its first pack');
  const sentAt = Date.now();
  child.kill('SIGINT');
  const run = await done;
  const took = Date.now() - sentAt;

  assert.notEqual(run.code, 0, `a cancelled backup must not report success: ${describeRun(run)}`);
  assert.equal(run.signal, null, 'it exits by itself, not killed by the signal');
  assert.match(run.stderr, /Cancelled/, describeRun(run));
  assert.equal(run.stdout, '', 'no snapshot id was printed');
  assert.ok(took < 10_000, `it stopped within 10 s of Ctrl-C (took ${took} ms)`);
  assert.deepEqual(await snapshotIds(repo), [before], 'no snapshot was added');
  assert.equal(hasLock(repo.path), false, 'the lock was released');

  const after = await backupOf(repo, [src], ['--keep-last', '5']);
  assert.deepEqual((await snapshotIds(repo)).sort(), [before, after].sort());
  const check = await ok(['check', ...repoArgs(repo), '--read-data']);
  assert.match(check.stdout, /No problems/);
});
