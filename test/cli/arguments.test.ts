/**
 * How the command line reads its arguments and key files: help only where it
 * is an option, key files that are not regular files refused without
 * waiting, --key-file never silently ignored, counts with their real limit.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeRun, makeTempDir, runCli, type TempDir } from '../helpers/cli.js';
import { initRepo, ok, repoArgs, snapshotIds, type TestRepo } from '../engine-safety/scenario.js';

let tmp: TempDir;
let repo: TestRepo;

before(async () => {
  tmp = makeTempDir('cli-args');
  repo = await initRepo(tmp.path);
});
after(() => tmp?.remove());

function mkfifo(path: string): void {
  execFileSync('mkfifo', [path]);
}

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

test('a key file that is a FIFO or a device is refused at once (exit 2), without waiting or reading it', async () => {
  const fifo = join(tmp.path, 'key.fifo');
  mkfifo(fifo);
  const started = Date.now();
  const runs = await Promise.all([
    runCli(['snapshots', '--repo', repo.path, '--key-file', fifo], { timeoutMs: 20_000 }),
    runCli(['snapshots', '--repo', repo.path, '--key-file', '/dev/zero'], { timeoutMs: 20_000 }),
    runCli(['key', 'list', '--repo', repo.path, '--key-file', tmp.path], { timeoutMs: 20_000 }),
  ]);
  for (const run of runs) {
    assert.equal(run.code, 2, describeRun(run));
    assert.match(run.stderr, /is not a regular file|is a folder/, describeRun(run));
  }
  assert.ok(Date.now() - started < 15_000, 'refused without waiting');

  const big = join(tmp.path, 'big.key');
  writeFileSync(big, `${readFileSync(repo.keyFile, 'utf8')}${' '.repeat(5000)}`);
  const tooBig = await runCli(['snapshots', '--repo', repo.path, '--key-file', big]);
  assert.equal(tooBig.code, 2, describeRun(tooBig));
  assert.match(tooBig.stderr, /too large to be a key file/);
});

test('a new key file is never written into a FIFO or over anything else that exists', async () => {
  const fifo = join(tmp.path, 'new.fifo');
  mkfifo(fifo);
  const runs = await Promise.all([
    runCli(['key', 'add', ...repoArgs(repo), '--new-key-file', fifo], { timeoutMs: 20_000 }),
    runCli(['init', '--repo', join(tmp.path, 'fifo-repo'), '--key-file', fifo], { timeoutMs: 20_000 }),
  ]);
  for (const run of runs) {
    assert.equal(run.code, 1, describeRun(run));
    assert.match(run.stderr, /already exists; refusing to overwrite a key file/);
  }
  assert.equal(existsSync(join(tmp.path, 'fifo-repo', 'config')), false);
});

test('--key-file is never silently ignored: empty, or with --password, is a usage error', async () => {
  const key = readFileSync(repo.keyFile, 'utf8');
  const kpw = join(tmp.path, 'kpw');
  const runs = await Promise.all([
    runCli(['snapshots', '--repo', repo.path, '--key-file', ''], { env: { CHATSAFE_KEY: key } }),
    runCli(['snapshots', '--repo', repo.path, '--key-file=']),
    runCli(['snapshots', ...repoArgs(repo), '--password']),
    runCli(['init', '--repo', join(tmp.path, 'pw-repo'), '--password', '--key-file', kpw], { env: { CHATSAFE_PASSWORD: 'correct horse battery staple' } }),
    runCli(['init', '--repo', join(tmp.path, 'empty-kf-repo'), '--key-file', '']),
  ]);
  runs.forEach((run, i) => {
    assert.equal(run.code, 2, `case ${i}: ${describeRun(run)}`);
    assert.match(run.stderr, /--key-file/, `case ${i}`);
    assert.equal(run.stdout, '', `case ${i}`);
  });
  assert.match(runs[0]!.stderr, /needs a file name/);
  assert.match(runs[2]!.stderr, /not both/);
  assert.equal(existsSync(kpw), false);
  assert.equal(existsSync(join(tmp.path, 'pw-repo')), false, 'no repository was started');
  assert.equal(existsSync(join(tmp.path, 'empty-kf-repo')), false, 'no repository was made and no key printed');
});

test('counts: a number above the limit is refused with the limit; the limit itself is accepted', async () => {
  const tooMany = await runCli(['forget', ...repoArgs(repo), '--keep-last', '1000000']);
  assert.equal(tooMany.code, 2, describeRun(tooMany));
  assert.match(tooMany.stderr, /--keep-last must be at most 999999 \(got "1000000"\)/);
  const zero = await runCli(['forget', ...repoArgs(repo), '--keep-last', '0']);
  assert.equal(zero.code, 2, describeRun(zero));
  assert.match(zero.stderr, /at least 1/);
  await ok(['forget', ...repoArgs(repo), '--keep-last', '999999']);
});

test('init leaves no key file behind when the storage address is refused, so the retry works', async () => {
  const keyFile = join(tmp.path, 'ks3.key');
  const env = { AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined, AWS_SESSION_TOKEN: undefined, AWS_PROFILE: undefined, CHATSAFE_CREDENTIALS_FILE: undefined };
  const refused = await runCli(['init', '--repo', 's3://bucket/prefix', '--key-file', keyFile], { env });
  assert.equal(refused.code, 2, describeRun(refused));
  assert.match(refused.stderr, /No S3 credentials/);
  assert.equal(existsSync(keyFile), false, 'no key file for a repository that was never made');
  await ok(['init', '--repo', join(tmp.path, 'retry-repo'), '--key-file', keyFile]);
});
