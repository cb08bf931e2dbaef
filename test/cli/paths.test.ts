/**
 * Paths of the wrong kind: a file where a folder belongs, a folder that is
 * not there, and output names held by something that is not a regular file
 * (a FIFO, a link to one). Each is refused with exit code 2 and a message
 * about the path given, never "unexpected failure", and nothing is replaced.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { lstatSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeRun, makeTempDir, runCli, type CliRun, type TempDir } from '../helpers/cli.js';
import { backupOf, initRepo, repoArgs, type TestRepo } from '../engine-safety/scenario.js';

let tmp: TempDir;
let repo: TestRepo;
let file: string;

before(async () => {
  tmp = makeTempDir('cli-paths');
  repo = await initRepo(tmp.path);
  const src = join(tmp.path, 'src');
  mkdirSync(src);
  writeFileSync(join(src, 'chat.txt'), 'hello\n');
  await backupOf(repo, [src]);
  file = join(tmp.path, 'file.txt');
  writeFileSync(file, 'not a folder\n');
});
after(() => tmp?.remove());

function assertUsage(run: CliRun, message: RegExp, what: string): void {
  assert.equal(run.code, 2, `${what}: ${describeRun(run)}`);
  assert.match(run.stderr, message, `${what}: ${describeRun(run)}`);
  assert.doesNotMatch(run.stderr, /unexpected failure|Storage failed/, what);
}

test('a file given where a folder belongs: init, snapshots and restore say so', async () => {
  const [init, initBelow, snapshots, snapshotsBelow, restore, restoreBelow] = await Promise.all([
    runCli(['init', '--repo', file]),
    runCli(['init', '--repo', join(file, 'repo')]),
    runCli(['snapshots', '--repo', file, '--key-file', repo.keyFile]),
    runCli(['snapshots', '--repo', join(file, 'repo'), '--key-file', repo.keyFile]),
    runCli(['restore', ...repoArgs(repo), '--target', file]),
    runCli(['restore', ...repoArgs(repo), '--target', join(file, 'x')]),
  ]);
  assertUsage(init, /file\.txt is a file, so it cannot be a repository/, 'init');
  assertUsage(initBelow, /cannot be a repository folder: .*file\.txt is a file/, 'init below a file');
  assertUsage(snapshots, /file\.txt is a file, so it cannot be a repository/, 'snapshots');
  assertUsage(snapshotsBelow, /file\.txt is a file/, 'snapshots below a file');
  assertUsage(restore, /is a file; the restore target must be a folder/, 'restore');
  assertUsage(restoreBelow, /cannot be a folder/, 'restore below a file');
  assert.equal(readFileSync(file, 'utf8'), 'not a folder\n');
});

test('export: a folder, a missing folder or a file on the way are refused before anything is written', async () => {
  const folder = join(tmp.path, 'd.chatsafe');
  mkdirSync(folder);
  const [overFolder, missing, belowFile] = await Promise.all([
    runCli(['export', ...repoArgs(repo), '--out', folder, '--overwrite']),
    runCli(['export', ...repoArgs(repo), '--out', join(tmp.path, 'nodir', 'x.chatsafe')]),
    runCli(['export', ...repoArgs(repo), '--out', join(file, 'x.chatsafe')]),
  ]);
  assertUsage(overFolder, /d\.chatsafe is a folder/, 'export over a folder');
  assertUsage(missing, /the folder .*nodir does not exist/, 'export into a missing folder');
  assertUsage(belowFile, /file\.txt is not a folder/, 'export below a file');
  assert.deepEqual(readdirSync(folder), []);
  assert.ok(!readdirSync(tmp.path).some((n) => n.includes('.partial-')), 'no temporary file is left');
});

test('outputs never replace a FIFO or a link to one, with or without --overwrite', async () => {
  const fifo = join(tmp.path, 'out.fifo');
  execFileSync('mkfifo', [fifo]);
  const link = join(tmp.path, 'link.chatsafe');
  symlinkSync(fifo, link);
  const fifoBundle = join(tmp.path, 'fifo.chatsafe');
  execFileSync('mkfifo', [fifoBundle]);
  const key = '0123456789abcdef'.repeat(4);
  const cases: Array<[string, string[]]> = [
    ['export', ['export', ...repoArgs(repo), '--out', fifoBundle]],
    ['export --overwrite', ['export', ...repoArgs(repo), '--out', fifoBundle, '--overwrite']],
    ['export to a link', ['export', ...repoArgs(repo), '--out', link, '--overwrite']],
    ['wa-decrypt', ['wa-decrypt', join(tmp.path, 'msgstore.db.crypt15'), '--out', fifo]],
    ['wa-decrypt --overwrite', ['wa-decrypt', join(tmp.path, 'msgstore.db.crypt15'), '--out', fifo, '--overwrite']],
    ['export-html', ['export-html', ...repoArgs(repo), '--out', fifo]],
    ['export-html to a file', ['export-html', ...repoArgs(repo), '--out', file]],
  ];
  const runs = await Promise.all(cases.map(([, args]) => runCli(args, { env: { CHATSAFE_WA_KEY: key }, timeoutMs: 30_000 })));
  runs.forEach((run, i) => assertUsage(run, /exists and is not a (regular file|folder)/, cases[i]![0]));
  for (const p of [fifo, fifoBundle]) assert.ok(lstatSync(p).isFIFO(), `${p} is still a FIFO`);
  assert.ok(lstatSync(link).isSymbolicLink());
  assert.equal(readFileSync(file, 'utf8'), 'not a folder\n');
});

test('a FIFO given as a bundle or a WhatsApp backup to read is refused at once, not waited on', async () => {
  const fifo = join(tmp.path, 'in.chatsafe');
  execFileSync('mkfifo', [fifo]);
  const key = '0123456789abcdef'.repeat(4);
  const cases: Array<[string, string[]]> = [
    ['inspect', ['inspect', fifo]],
    ['check', ['check', fifo, '--key-file', repo.keyFile]],
    ['restore', ['restore', fifo, '--key-file', repo.keyFile, '--target', join(tmp.path, 'from-fifo')]],
    ['wa-decrypt', ['wa-decrypt', fifo, '--out', join(tmp.path, 'msgstore.db')]],
  ];
  const runs = await Promise.all(cases.map(([, args]) => runCli(args, { env: { CHATSAFE_WA_KEY: key }, timeoutMs: 30_000 })));
  runs.forEach((run, i) => assertUsage(run, /is not a file/, cases[i]![0]));
});
