/**
 * The command line against a real S3 server (Ceph radosgw): a repository made, backed up to and
 * restored from by its address, as a user types it, with nothing on stderr but Chatsafe's own words.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { describeRun, runCli, withTempDir } from '../helpers/cli.js';
import { radosgwForTests, radosgwSkip } from '../core/storage/services.js';

const BUCKET = 'chatsafe-cli';
const rgw = radosgwForTests(BUCKET);

test('init, backup, snapshots and restore by an s3:// address, with no warning of the SDK on stderr', { skip: radosgwSkip }, async () => {
  await withTempDir('cli-s3', async (dir) => {
    const repo = `s3://${BUCKET}/repo?endpoint=${encodeURIComponent(rgw.service().env.S3_ENDPOINT!)}&region=us-east-1&pathStyle=1`;
    const env = { ...rgw.service().env, CHATSAFE_CACHE_DIR: join(dir, 'cache') };
    const key = join(dir, 'key');
    const src = join(dir, 'chats');
    mkdirSync(src);
    writeFileSync(join(src, 'notes.txt'), 'kept in the cloud\n');
    const runs = [
      await runCli(['init', '--repo', repo, '--key-file', key], { env }),
      await runCli(['backup', '--repo', repo, '--key-file', key, '--json', src], { env }),
      await runCli(['snapshots', '--repo', repo, '--key-file', key, '--json'], { env }),
      await runCli(['restore', '--repo', repo, '--key-file', key, 'latest', '--target', join(dir, 'back')], { env }),
    ];
    for (const run of runs) {
      assert.equal(run.code, 0, describeRun(run));
      assert.doesNotMatch(run.stderr, /Warning|AWS SDK/, describeRun(run));
    }
    assert.equal((JSON.parse(runs[2]!.stdout) as unknown[]).length, 1);
    assert.equal(readFileSync(join(dir, 'back', 'chats', 'notes.txt'), 'utf8'), 'kept in the cloud\n');
  });
});
