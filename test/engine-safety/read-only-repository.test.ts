/**
 * A repository on read-only storage (a mount, a disc, another user's folder): what only reads it
 * (snapshots, check, restore, export) works without the lock it cannot write; what writes it says
 * why it cannot.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { describeRun, makeTempDir, runCli } from '../helpers/cli.js';
import { mountTinyDisk } from '../helpers/tmp.js';
import { assertSameTree, backupOf, digestTree, initRepo, ok, repoArgs, underName, writeTree } from './scenario.js';

test('a read-only repository can be listed, checked, restored and exported; a backup into it fails saying why', async (t) => {
  const tmp = makeTempDir('read-only');
  const mount = join(tmp.path, 'mnt');
  let mounted = false;
  t.after(() => {
    if (mounted) execFileSync('umount', [mount]);
    tmp.remove();
  });
  const src = join(tmp.path, 'src');
  writeTree(src, { random: { 'a.bin': 200_000, 'b/c.bin': 50_000 } }, 'ro');
  const made = await initRepo(tmp.path, 'made');
  await backupOf(made, [src]);

  mkdirSync(mount);
  const cannot = mountTinyDisk(mount, '16m');
  if (cannot) {
    t.skip(cannot);
    return;
  }
  mounted = true;
  cpSync(made.path, join(mount, 'repo'), { recursive: true });
  execFileSync('mount', ['-o', 'remount,ro', mount]);
  const repo = { path: join(mount, 'repo'), keyFile: made.keyFile };

  await ok(['snapshots', ...repoArgs(repo)]);
  await ok(['check', ...repoArgs(repo), '--read-data']);
  const target = join(tmp.path, 'restored');
  await ok(['restore', ...repoArgs(repo), 'latest', '--target', target]);
  assertSameTree(digestTree(target), underName(digestTree(src), 'src'), 'restored from the read-only repository');
  await ok(['export', ...repoArgs(repo), '--out', join(tmp.path, 'one.chatsafe')]);

  const backup = await runCli(['backup', ...repoArgs(repo), src]);
  assert.equal(backup.code, 1, describeRun(backup));
  assert.match(backup.stderr, /EROFS/, describeRun(backup));
});
