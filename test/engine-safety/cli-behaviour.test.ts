/**
 * What a person or a script meets at the command line: the key shown once,
 * key files that are private and never overwritten, restores that do not
 * clobber files, usage errors that point at --help, JSON that parses,
 * `inspect` without any key that reveals no names, and two writers kept apart.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { collect, describeRun, makeTempDir, runCli, spawnCli, type TempDir } from '../helpers/cli.js';
import { assertSameTree, backupOf, chatLikeSpec, digestTree, hasLock, initRepo, ok, repoArgs, underName, waitFor, writeTree, type TestRepo, type TreeDigest } from './scenario.js';

let tmp: TempDir;
let repo: TestRepo;
let src: string;
let digest: TreeDigest;
let bundle: string;
/** Names from the source that must never appear in keyless output. */
const SECRET_NAMES = ['secret-chats', 'Ünïcødé', '聊天', 'msgstore', 'IMG-2024', 'notes — ñ', 'latest-chat', 'WhatsApp Images'];

before(async () => {
  tmp = makeTempDir('cli');
  src = join(tmp.path, 'secret-chats');
  writeTree(src, chatLikeSpec(600_000), 'cli');
  digest = underName(digestTree(src), 'secret-chats');
  repo = await initRepo(tmp.path);
  await backupOf(repo, [src]);
  bundle = join(tmp.path, 'support.chatsafe');
  await ok(['export', ...repoArgs(repo), '--out', bundle]);
});
after(() => tmp?.remove());

test('init prints the key once, in 16 groups of 4, with a warning; that key opens the repository', async () => {
  const path = join(tmp.path, 'printed');
  const run = await ok(['init', '--repo', path]);
  const keys = run.stdout.match(/\b(?:[0-9A-F]{4} ){15}[0-9A-F]{4}\b/g) ?? [];
  assert.equal(keys.length, 1, `exactly one key in the output: ${run.stdout}`);
  assert.match(run.stdout, /NOW/);
  assert.match(run.stdout, /only this once/);
  assert.match(run.stdout, /nobody can restore/i);
  await ok(['snapshots', '--repo', path], { CHATSAFE_KEY: keys[0]! });
  const other = await runCli(['snapshots', '--repo', path], { env: { CHATSAFE_KEY: readFileSync(repo.keyFile, 'utf8') } });
  assert.equal(other.code, 3, 'a fresh repository has a fresh key');
});

test('init --key-file writes the key with mode 0600 and does not print it; it refuses to overwrite a key file', async () => {
  const keyFile = join(tmp.path, 'kf.key');
  const run = await ok(['init', '--repo', join(tmp.path, 'kf-repo'), '--key-file', keyFile]);
  assert.equal(statSync(keyFile).mode & 0o777, 0o600);
  const key = readFileSync(keyFile, 'utf8');
  assert.match(key, /^(?:[0-9A-F]{4} ){15}[0-9A-F]{4}\n$/);
  assert.ok(!run.stdout.includes(key.trim()), 'the key is not printed when it goes to a file');

  const again = await runCli(['init', '--repo', join(tmp.path, 'kf-repo-2'), '--key-file', keyFile]);
  assert.equal(again.code, 1, describeRun(again));
  assert.match(again.stderr, /already exists; refusing to overwrite/);
  assert.equal(readFileSync(keyFile, 'utf8'), key, 'the existing key file is unchanged');
  assert.equal(existsSync(join(tmp.path, 'kf-repo-2', 'config')), false, 'no repository was created');
});

test('restore refuses to overwrite existing files (exit 1, nothing changed) and replaces them with --overwrite', async () => {
  const target = join(tmp.path, 'restore-target');
  await ok(['restore', ...repoArgs(repo), '--target', target]);
  assertSameTree(digestTree(target), digest, 'the first restore');
  const victim = join(target, 'secret-chats', 'Chats', 'Ünïcødé 聊天 💬.txt');
  writeFileSync(victim, 'local edits the user cares about\n');
  const edited = digestTree(target);

  const refused = await runCli(['restore', ...repoArgs(repo), '--target', target]);
  assert.equal(refused.code, 1, describeRun(refused));
  assert.match(refused.stderr, /already exist/);
  assert.match(refused.stderr, /--overwrite/);
  assert.deepEqual(digestTree(target), edited, 'nothing in the target changed');

  await ok(['restore', ...repoArgs(repo), '--target', target, '--overwrite']);
  assertSameTree(digestTree(target), digest, 'the restore with --overwrite');
});

test('restore refuses a target that is the repository or inside it (exit 2), also through a link, and writes nothing', async () => {
  const link = join(tmp.path, 'repo-link');
  symlinkSync(repo.path, link);
  const before = readdirSync(repo.path).sort();
  for (const target of [repo.path, join(repo.path, 'restored'), join(link, 'restored')]) {
    const run = await runCli(['restore', ...repoArgs(repo), '--target', target, '--overwrite']);
    assert.equal(run.code, 2, `--target ${target}: ${describeRun(run)}`);
    assert.match(run.stderr, /repository/, describeRun(run));
    assert.match(run.stderr, /outside the repository/, 'the hint says where to restore instead');
  }
  const viaLink = await runCli(['restore', '--repo', link, '--key-file', repo.keyFile, '--target', join(repo.path, 'restored')]);
  assert.equal(viaLink.code, 2, describeRun(viaLink));
  assert.deepEqual(readdirSync(repo.path).sort(), before, 'nothing was written into the repository');
});

test('unknown commands and options and missing arguments: exit 2 and a pointer to --help', async () => {
  const cases: string[][] = [
    ['frobnicate'],
    ['snapshots', '--repo', repo.path, '--bogus'],
    ['backup', '--repo', repo.path, '--key-file'],
    ['restore', ...repoArgs(repo)],
    ['backup', ...repoArgs(repo)],
    ['export', ...repoArgs(repo)],
    ['inspect'],
    ['forget', ...repoArgs(repo)],
    ['backup', ...repoArgs(repo), '--keep-last', 'zero', src],
  ];
  const runs = await Promise.all(cases.map((args) => runCli(args)));
  runs.forEach((run, i) => {
    const args = cases[i]!.join(' ');
    assert.equal(run.code, 2, `chatsafe ${args}: ${describeRun(run)}`);
    assert.match(run.stderr, /--help/, `chatsafe ${args} points at --help: ${describeRun(run)}`);
    assert.equal(run.stdout, '', `chatsafe ${args} prints nothing on stdout`);
  });
});

test('--json output of backup, snapshots, inspect and check is one JSON document each', async () => {
  const backup = await ok(['backup', ...repoArgs(repo), '--keep-last', '3', '--json', src]);
  const b = JSON.parse(backup.stdout) as { snapshot: { id: string } };
  assert.match(b.snapshot.id, /^[0-9a-f]{64}$/);
  const [snapshots, inspectRepo, inspectBundle, check, checkBundle] = await Promise.all([
    ok(['snapshots', ...repoArgs(repo), '--json']),
    ok(['inspect', repo.path, '--json']),
    ok(['inspect', bundle, '--json']),
    ok(['check', ...repoArgs(repo), '--read-data', '--json']),
    ok(['check', bundle, '--key-file', repo.keyFile, '--json']),
  ]);
  const list = JSON.parse(snapshots.stdout) as Array<{ id: string }>;
  assert.ok(list.some((s) => s.id === b.snapshot.id));
  assert.equal((JSON.parse(inspectRepo.stdout) as { type: string }).type, 'repository');
  assert.equal((JSON.parse(inspectBundle.stdout) as { type: string }).type, 'bundle');
  for (const c of [check, checkBundle]) {
    const report = JSON.parse(c.stdout) as { ok: boolean; errors: unknown[] };
    assert.equal(report.ok, true);
    assert.deepEqual(report.errors, []);
  }
});

test('inspect needs no key: shows version, creation, app version, slot kinds, counts and sizes, and no source name', async () => {
  const env = { CHATSAFE_KEY: undefined, CHATSAFE_PASSWORD: undefined };
  const [text, json, btext, bjson] = await Promise.all([
    runCli(['inspect', repo.path], { env }),
    runCli(['inspect', repo.path, '--json'], { env }),
    runCli(['inspect', bundle], { env }),
    runCli(['inspect', bundle, '--json'], { env }),
  ]);
  for (const run of [text, json, btext, bjson]) {
    assert.equal(run.code, 0, describeRun(run));
    for (const name of SECRET_NAMES) assert.ok(!run.stdout.includes(name) && !run.stderr.includes(name), `inspect reveals "${name}": ${run.stdout}`);
  }
  assert.match(text.stdout, /format version\s+1/);
  assert.match(text.stdout, /created\s+\d{4}-\d\d-\d\dT.* by Chatsafe \d+\.\d+\.\d+/);
  assert.match(text.stdout, /key slots\s+key \(/);
  assert.match(text.stdout, /snapshots\s+\d+/);
  assert.match(text.stdout, /packs\s+\d+ \(\d/);
  assert.match(text.stdout, /total size\s+\d/);
  const r = JSON.parse(json.stdout) as { formatVersion: number; created: string; appVersion: string; keySlots: Array<{ kind: string }>; objects: Record<string, { count: number; bytes: number }> };
  assert.equal(r.formatVersion, 1);
  assert.ok(!Number.isNaN(Date.parse(r.created)));
  assert.match(r.appVersion, /^\d+\.\d+\.\d+/);
  assert.deepEqual(r.keySlots.map((s) => s.kind), ['key']);
  assert.ok(r.objects.snapshots!.count >= 1 && r.objects.packs!.count >= 1 && r.objects.packs!.bytes > 600_000);

  assert.match(btext.stdout, /format version\s+1/);
  assert.match(btext.stdout, /key slots\s+key \(/);
  assert.match(btext.stdout, /contents\s+\d+ files/);
  const bj = JSON.parse(bjson.stdout) as { formatVersion: number; files: number; bytes: number; keySlots: Array<{ kind: string }>; fileSize: number };
  assert.equal(bj.formatVersion, 1);
  assert.equal(bj.files, [...digest.values()].filter((v) => v.startsWith('file ')).length);
  assert.ok(bj.bytes > 600_000 && bj.fileSize > 600_000);
  assert.deepEqual(bj.keySlots.map((s) => s.kind), ['key']);
});

test('two backups to the same repository at once: the second fails with "in use" (exit 1), the first completes', async () => {
  const big = join(tmp.path, 'big');
  writeTree(big, chatLikeSpec(30_000_000), 'concurrent');
  const first = spawnCli(['backup', ...repoArgs(repo), '--keep-last', '5', big]);
  const firstDone = collect(first);
  await waitFor(() => hasLock(repo.path), 30_000, 'the first backup to take its lock');
  // Freeze the first backup while it holds its lock, so the outcome does not depend on its speed.
  first.kill('SIGSTOP');
  let second;
  try {
    second = await runCli(['backup', ...repoArgs(repo), '--keep-last', '5', src]);
  } finally {
    first.kill('SIGCONT');
  }
  const firstRun = await firstDone;
  assert.equal(second.code, 1, describeRun(second));
  assert.match(second.stderr, /in use by process \d+ on this computer/);
  assert.equal(second.stdout, '');
  assert.equal(firstRun.code, 0, describeRun(firstRun));
  const id = firstRun.stdout.trim();
  const target = join(tmp.path, 'concurrent-target');
  await ok(['restore', ...repoArgs(repo), id, '--target', target]);
  assertSameTree(digestTree(target), underName(digestTree(big), 'big'), 'the first backup, restored');
});
