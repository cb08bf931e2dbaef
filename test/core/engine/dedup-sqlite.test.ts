/**
 * A chat database that grew by 1% costs roughly its changed part: a 200 MB
 * msgstore-like SQLite file (WhatsApp's tables and indexes, including the
 * index over random message keys that spreads new rows over the whole file)
 * gains 1% more messages, and the second backup adds less than 10% of the
 * file's size to the repository.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { backup } from '../../../src/core/backup/backup.js';
import { RootKey } from '../../../src/core/keys/root-key.js';
import { Repository } from '../../../src/core/repo/repository.js';
import type { ObjectKind } from '../../../src/core/storage/backend.js';
import { LocalFolderBackend } from '../../../src/core/storage/local-folder.js';
import { REPO_ROOT } from '../../helpers/fixtures.js';
import { tempDir } from '../../helpers/tmp.js';

type ChatDb = typeof import('../../../bench/lib/chat-db.mjs');

async function repoBytes(repo: Repository): Promise<number> {
  let n = 0;
  for (const kind of ['data', 'index', 'snapshots', 'keys', 'config'] as ObjectKind[]) for await (const o of repo.backend.list(kind)) n += o.size;
  return n;
}

test('a 200 MB chat database with 1% more messages grows the repository by less than 10% of its size', { timeout: 600_000 }, async () => {
  const { generateChatDb, growChatDb }: ChatDb = await import(pathToFileURL(join(REPO_ROOT, 'bench/lib/chat-db.mjs')).href);
  const t = tempDir();
  try {
    const src = join(t.dir, 'WhatsApp', 'Databases');
    mkdirSync(src, { recursive: true });
    const db = join(src, 'msgstore.db');
    const gen = await generateChatDb({ file: join(t.dir, 'base.db'), bytes: 200 * 1000 * 1000, seed: 'dedup-test' });
    copyFileSync(gen.file, db);
    const repo = await Repository.init(new LocalFolderBackend(join(t.dir, 'repo')), RootKey.generate());
    await backup(repo, { sources: [join(t.dir, 'WhatsApp')] });
    const first = await repoBytes(repo);

    const again = await backup(repo, { sources: [join(t.dir, 'WhatsApp')] });
    const unchanged = (await repoBytes(repo)) - first;
    assert.ok(unchanged < first * 0.01, `the same data again grew the repository by ${unchanged} bytes (${((100 * unchanged) / first).toFixed(2)}%)`);
    assert.equal(again.snapshot.summary.newBytes, 0);

    const grown = growChatDb({ file: db, fraction: 0.01, seed: 'dedup-test' });
    const before = await repoBytes(repo);
    await backup(repo, { sources: [join(t.dir, 'WhatsApp')] });
    const growth = (await repoBytes(repo)) - before;
    assert.ok(grown.added > 0);
    assert.ok(growth < grown.bytesAfter * 0.1, `1% more rows grew the repository by ${growth} bytes, ${((100 * growth) / grown.bytesAfter).toFixed(1)}% of the ${grown.bytesAfter}-byte file`);
  } finally {
    t.cleanup();
  }
});
