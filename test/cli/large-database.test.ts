/**
 * A chat database over 1 GiB: its folder's tree lists more chunk ids than a
 * data blob may hold (16 MiB of JSON), which tree blobs may exceed. Backed up,
 * checked and restored through the CLI, as a user would. The file is sparse:
 * a SQLite header, a few distinct pages, and holes that read as zero pages.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { closeSync, createReadStream, mkdirSync, openSync, statSync, writeSync, ftruncateSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { MAX_DATA_BLOB_BYTES } from '../../src/core/repo/blob.js';
import { describeRun, runCli, withTempDir } from '../helpers/cli.js';
import { pseudoRandomBytes } from '../helpers/tmp.js';

const PAGE = 4096;
const PAGES = 281_600; // 1100 MiB
/** A chunk id in a tree's JSON: 64 hex digits, two quotes and a comma. */
const JSON_BYTES_PER_CHUNK = 67;

function writeSparseDatabase(path: string): void {
  const fd = openSync(path, 'w');
  try {
    const header = Buffer.alloc(PAGE);
    header.write('SQLite format 3\0', 0, 'latin1');
    header.writeUInt16BE(PAGE, 16);
    writeSync(fd, header, 0, PAGE, 0);
    // Distinct pages at the start, the middle and the end, so order matters on restore.
    for (const page of [1, 2, 3, PAGES / 2, PAGES - 2, PAGES - 1]) writeSync(fd, pseudoRandomBytes(PAGE, page), 0, PAGE, page * PAGE);
    ftruncateSync(fd, PAGES * PAGE);
  } finally {
    closeSync(fd);
  }
}

async function sha256Of(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 4 * 1024 * 1024 })) h.update(chunk as Buffer);
  return h.digest('hex');
}

test('a database of 1100 MiB, whose tree is larger than a data blob may be, backs up, checks and restores byte for byte', { timeout: 300_000 }, async () => {
  assert.ok(PAGES * JSON_BYTES_PER_CHUNK > MAX_DATA_BLOB_BYTES, 'the folder listing must be larger than a data blob may be');
  await withTempDir('large-db', async (dir) => {
    const source = join(dir, 'export');
    mkdirSync(source);
    const db = join(source, 'huge.db'); // not a name an importer claims: the catalog is not what this tests
    writeSparseDatabase(db);
    const repo = join(dir, 'repo');
    const key = join(dir, 'key');
    const env = { CHATSAFE_CACHE_DIR: join(dir, 'cache') };

    const init = await runCli(['init', '--repo', repo, '--key-file', key], { env });
    assert.equal(init.code, 0, describeRun(init));
    const backup = await runCli(['backup', '--repo', repo, '--key-file', key, '--json', source], { env, timeoutMs: 240_000 });
    assert.equal(backup.code, 0, describeRun(backup));
    const check = await runCli(['check', '--read-data', '--repo', repo, '--key-file', key], { env, timeoutMs: 240_000 });
    assert.equal(check.code, 0, describeRun(check));

    const target = join(dir, 'restored');
    const restore = await runCli(['restore', '--repo', repo, '--key-file', key, 'latest', '--target', target], { env, timeoutMs: 240_000 });
    assert.equal(restore.code, 0, describeRun(restore));
    const restored = join(target, 'export', 'huge.db');
    assert.equal(statSync(restored).size, PAGES * PAGE);
    assert.equal(await sha256Of(restored), await sha256Of(db));
  });
});
