/**
 * Keys that do not open a repository or bundle: exit 3 with a message that
 * says what is wrong (a different key, one mistyped digit with the likely
 * right one, a malformed key), and nothing restored. Spaces, dashes and
 * lowercase in a key are accepted.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeRun, makeTempDir, runCli, type TempDir } from '../helpers/cli.js';
import { backupOf, initRepo, ok, repoArgs, writeTree, type TestRepo } from './scenario.js';

let tmp: TempDir;
let repo: TestRepo;
let bundle: string;
/** The right key as 64 uppercase digits. */
let key: string;

before(async () => {
  tmp = makeTempDir('wrong-key');
  const src = join(tmp.path, 'src');
  writeTree(src, { random: { 'a.bin': 200_000 }, text: { 'chat ✓.txt': 'hello\n' } }, 'wrong-key');
  repo = await initRepo(tmp.path);
  key = readFileSync(repo.keyFile, 'utf8').replace(/\s/g, '');
  assert.match(key, /^[0-9A-F]{64}$/);
  await backupOf(repo, [src]);
  bundle = join(tmp.path, 'b.chatsafe');
  await ok(['export', ...repoArgs(repo), '--out', bundle]);
});
after(() => tmp?.remove());

/** Runs a key-needing command on the repository and on the bundle with CHATSAFE_KEY = typed. */
async function withKey(typed: string) {
  const target = join(tmp.path, `t-${randomBytes(4).toString('hex')}`);
  const env = { CHATSAFE_KEY: typed };
  const [repoRestore, bundleRestore] = await Promise.all([
    runCli(['restore', '--repo', repo.path, 'latest', '--target', target + '-repo'], { env }),
    runCli(['restore', bundle, '--target', target + '-bundle'], { env }),
  ]);
  return { repoRestore, bundleRestore, wroteNothing: !existsSync(target + '-repo') && !existsSync(target + '-bundle') };
}

test('a different key: exit 3, "does not open", nothing restored (repository and bundle)', async () => {
  const r = await withKey(randomBytes(32).toString('hex'));
  for (const run of [r.repoRestore, r.bundleRestore]) {
    assert.equal(run.code, 3, describeRun(run));
    assert.match(run.stderr, /does not open/);
    assert.doesNotMatch(run.stderr, /did you mean/);
  }
  assert.ok(r.wroteNothing, 'no target folder was created');
});

test('one mistyped digit: exit 3, the message names group 6, digit 3 and suggests the right digit', async () => {
  const i = 5 * 4 + 2; // group 6, digit 3
  const right = key[i]!;
  const wrong = right === 'B' ? 'C' : 'B';
  const typed = key.slice(0, i) + wrong + key.slice(i + 1);
  const r = await withKey(typed);
  for (const run of [r.repoRestore, r.bundleRestore]) {
    assert.equal(run.code, 3, describeRun(run));
    assert.match(run.stderr, new RegExp(`group 6, digit 3: you typed ${wrong}, did you mean ${right}\\?`), describeRun(run));
    assert.ok(!run.stderr.includes(key) && !run.stderr.includes(typed), 'the key itself is never printed');
  }
  assert.ok(r.wroteNothing);
});

test('a key with 63 digits: exit 3, says how many digits it has and how many it needs', async () => {
  const r = await withKey(key.slice(0, 63));
  for (const run of [r.repoRestore, r.bundleRestore]) {
    assert.equal(run.code, 3, describeRun(run));
    assert.match(run.stderr, /63 digits; a key has 64/);
  }
  assert.ok(r.wroteNothing);
});

test('a key with a G in it: exit 3, names the character and where it is', async () => {
  const r = await withKey(key.slice(0, 9) + 'G' + key.slice(10));
  for (const run of [r.repoRestore, r.bundleRestore]) {
    assert.equal(run.code, 3, describeRun(run));
    assert.match(run.stderr, /"G" \(group 3, digit 2\), which is not a key digit/);
  }
  assert.ok(r.wroteNothing);
});

test('spaces, dashes and lowercase are accepted in CHATSAFE_KEY and in a key file', async () => {
  const groups = key.toLowerCase().match(/.{4}/g)!;
  const dashed = `  ${groups.join('-')}  `;
  const spaced = groups.join('  ').replace(/^(.{10})/, '$1 ');
  const file = join(tmp.path, 'messy.key');
  writeFileSync(file, `${groups.slice(0, 8).join(' ')}\n${groups.slice(8).join('-')}\n`);
  const runs = await Promise.all([
    runCli(['snapshots', '--repo', repo.path], { env: { CHATSAFE_KEY: dashed } }),
    runCli(['snapshots', '--repo', repo.path], { env: { CHATSAFE_KEY: spaced } }),
    runCli(['snapshots', '--repo', repo.path, '--key-file', file]),
    runCli(['check', bundle, '--key-file', file]),
  ]);
  for (const run of runs) assert.equal(run.code, 0, describeRun(run));
});

test('no key at all and no terminal: exit 2 with a hint to pass --key-file or CHATSAFE_KEY', async () => {
  const run = await runCli(['snapshots', '--repo', repo.path]);
  assert.equal(run.code, 2, describeRun(run));
  assert.match(run.stderr, /--key-file/);
});
