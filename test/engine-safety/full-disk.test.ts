/**
 * A restore onto a disk too small for it. Into a new or empty folder it is refused before
 * anything is written; into a folder that holds files (where free space is not measured) it stops
 * at the first write the disk refuses. Either way it fails as an I/O error that says the disk is
 * full and what to do, and the target holds only whole, exact files: small files go through the
 * page cache with blocking writes, large ones past it (`restore/direct-writes.ts`).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describeRun, makeTempDir, runCli, type TempDir } from '../helpers/cli.js';
import { mountTinyDisk } from '../helpers/tmp.js';
import { assertOnlyCompleteFiles, backupOf, digestTree, initRepo, repoArgs, underName, writeTree, type TestRepo, type TreeDigest } from './scenario.js';

let tmp: TempDir;
let repo: TestRepo;
let digest: TreeDigest;
let mnt: string;
let skip: string | false;

before(async () => {
  tmp = makeTempDir('full-disk');
  const src = join(tmp.path, 'chats');
  const random: Record<string, number> = { 'Databases/msgstore.db': 700 * 1024 };
  for (let i = 0; i < 24; i++) random[`Media/IMG-${String(i).padStart(2, '0')}.jpg`] = 30 * 1024 + i;
  writeTree(src, { random }, 'full-disk');
  digest = underName(digestTree(src), 'chats');
  repo = await initRepo(tmp.path);
  await backupOf(repo, [src]);
  mnt = join(tmp.path, 'small-disk');
  mkdirSync(mnt);
  skip = mountTinyDisk(mnt, '512k');
});
after(() => {
  if (skip === false) execFileSync('umount', [mnt]);
  tmp?.remove();
});

test('a restore into an empty folder on a disk too small for it is refused before anything is written', async (t) => {
  if (skip !== false) return t.skip(skip);
  const target = join(mnt, 'fresh');
  const run = await runCli(['restore', ...repoArgs(repo), 'latest', '--target', target]);
  assert.equal(run.code, 1, describeRun(run));
  assert.match(run.stderr, /needs 1\.5 MB, but the disk holding .*fresh has \d+ kB free/, describeRun(run));
  assert.match(run.stderr, /Free some space there, or restore into a folder on another disk\. Nothing was written\./, describeRun(run));
  assert.deepEqual(readdirSync(target), [], 'nothing was written');
});

test('a restore that fills the disk fails clearly and leaves only whole files', async (t) => {
  if (skip !== false) return t.skip(skip);
  const target = join(mnt, 'in-use');
  mkdirSync(target);
  writeFileSync(join(target, 'notes.txt'), 'the user keeps this\n');
  const run = await runCli(['restore', ...repoArgs(repo), 'latest', '--target', target]);
  assert.equal(run.code, 1, describeRun(run));
  assert.match(run.stderr, /Writing the restored files into .*in-use failed: ENOSPC/, describeRun(run));
  assert.match(run.stderr, /The disk is full\. Free some space there, or restore into a folder on another disk; only whole files were kept\./, describeRun(run));
  const left = digestTree(target);
  assert.equal(left.get('notes.txt')?.startsWith('file '), true, 'the file that was there is kept');
  left.delete('notes.txt');
  const files = assertOnlyCompleteFiles(left, digest, 'the target after a full disk');
  assert.ok(files < 25, `the restore stopped early (${files} whole files of 25)`);
});
