/**
 * How the command line reads its arguments and key files: help only where it
 * is an option, key files that are not regular files refused without
 * waiting, --key-file never silently ignored, counts with their real limit.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeRun, makeTempDir, runCli, type TempDir } from '../helpers/cli.js';
import { initRepo, repoArgs, snapshotIds, type TestRepo } from '../engine-safety/scenario.js';

let tmp: TempDir;
let repo: TestRepo;

before(async () => {
  tmp = makeTempDir('cli-args');
  repo = await initRepo(tmp.path);
});
after(() => tmp?.remove());

test('--help and -h show the usage as options, before or after other options, and for subcommands', async () => {
  const cases = [['backup', '--help'], ['backup', ...repoArgs(repo), '-h'], ['backup', '--bogus', '--help'], ['key', '--help'], ['key', 'add', '-h'], ['vault', 'serve', '--help'], ['detect', '-h']];
  const runs = await Promise.all(cases.map((args) => runCli(args)));
  runs.forEach((run, i) => {
    assert.equal(run.code, 0, `chatsafe ${cases[i]!.join(' ')}: ${describeRun(run)}`);
    assert.match(run.stdout, /^Usage: chatsafe /, `chatsafe ${cases[i]!.join(' ')}`);
  });
});

test('a -h or --help after -- is a file name, and as an option value it is that value', async () => {
  const dir = join(tmp.path, 'dash-names');
  mkdirSync(dir);
  writeFileSync(join(dir, '-h'), 'a file named -h\n');
  const before = await snapshotIds(repo);
  const backup = await runCli(['backup', ...repoArgs(repo), '--keep-last', '5', '--', '-h'], { cwd: dir });
  assert.equal(backup.code, 0, describeRun(backup));
  assert.match(backup.stdout, /^[0-9a-f]{64}\n$/, 'a snapshot was made, not the usage printed');
  assert.equal((await snapshotIds(repo)).length, before.length + 1);

  const value = await runCli(['backup', ...repoArgs(repo), '--keep-last', '-h', dir]);
  assert.equal(value.code, 2, describeRun(value));
  assert.doesNotMatch(value.stdout, /Usage:/);
  assert.equal((await snapshotIds(repo)).length, before.length + 1, 'nothing was backed up');

  const detect = await runCli(['detect', '--', '--help'], { cwd: dir });
  assert.doesNotMatch(detect.stdout, /Usage:/, describeRun(detect));
  assert.match(detect.stderr, /--help/, 'detect looked at a path named --help');
});
