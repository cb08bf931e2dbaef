/**
 * A chat database over 1 GiB: more chunk ids than a data blob may hold as a
 * listing (16 MiB of JSON), which go to 35 chunk lists instead. Backed up,
 * checked and restored through the CLI, as a user would. The file is sparse:
 * a SQLite header, a few distinct pages, and holes that read as zero pages.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createReadStream, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { MAX_DATA_BLOB_BYTES } from '../../src/core/repo/blob.js';
import { describeRun, runCli, withTempDir } from '../helpers/cli.js';
import { SQLITE_PAGE, writeSparseDatabase } from '../helpers/sparse-database.js';

const PAGES = 281_600; // 1100 MiB
/** A chunk id in a tree's JSON: 64 hex digits, two quotes and a comma. */
const JSON_BYTES_PER_CHUNK = 67;

async function sha256Of(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 4 * 1024 * 1024 })) h.update(chunk as Buffer);
  return h.digest('hex');
}

test('a database of 1100 MiB, whose chunk ids as JSON are more than a data blob may be, backs up, checks and restores byte for byte', { timeout: 300_000 }, async () => {
  assert.ok(PAGES * JSON_BYTES_PER_CHUNK > MAX_DATA_BLOB_BYTES, 'the chunk ids as JSON must be more than a data blob may be');
  await withTempDir('large-db', async (dir) => {
    const source = join(dir, 'export');
    mkdirSync(source);
    const db = join(source, 'huge.db'); // not a name an importer claims: the catalog is not what this tests
    // Distinct pages at the start, the middle and the end, so order matters on restore.
    writeSparseDatabase(db, PAGES, [1, 2, 3, PAGES / 2, PAGES - 2, PAGES - 1]);
    const repo = join(dir, 'repo');
    const key = join(dir, 'key');
    const env = { CHATSAFE_CACHE_DIR: join(dir, 'cache') };

    const init = await runCli(['init', '--repo', repo, '--key-file', key], { env });
    assert.equal(init.code, 0, describeRun(init));
    const backup = await runCli(['backup', '--repo', repo, '--key-file', key, '--json', source], { env, timeoutMs: 240_000 });
    assert.equal(backup.code, 0, describeRun(backup));
    const check = await runCli(['check', '--read-data', '--json', '--repo', repo, '--key-file', key], { env, timeoutMs: 240_000 });
    assert.equal(check.code, 0, describeRun(check));
    // The root, the export's folder, and its database's 35 lists of pages, of which four differ:
    // the three that hold the distinct pages, and one of empty pages only, shared by the other 32.
    assert.equal(Math.ceil(PAGES / 8192), 35);
    assert.equal(JSON.parse(check.stdout).counts.trees, 2 + 4);

    const target = join(dir, 'restored');
    const restore = await runCli(['restore', '--repo', repo, '--key-file', key, 'latest', '--target', target], { env, timeoutMs: 240_000 });
    assert.equal(restore.code, 0, describeRun(restore));
    const restored = join(target, 'export', 'huge.db');
    assert.equal(statSync(restored).size, PAGES * SQLITE_PAGE);
    assert.equal(await sha256Of(restored), await sha256Of(db));
  });
});
