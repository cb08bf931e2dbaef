/**
 * A backup verifies its snapshot against its own index, once every index
 * file that index is made of is listed in storage; a missing one fails the
 * verification (and so keeps retention from running).
 */
import assert from 'node:assert/strict';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { backup } from '../../../src/core/backup/backup.js';
import { verifySnapshot } from '../../../src/core/backup/verify.js';
import { IntegrityError } from '../../../src/core/errors.js';
import { repoWithSource } from '../../helpers/repo.js';
import { pseudoRandomBytes } from '../../helpers/tmp.js';

test('verification with the backup index: passes as stored, fails naming an index file that went missing', async (t) => {
  const { dir, src, repo } = await repoWithSource(t, { 'a.bin': pseudoRandomBytes(3 * 1024 * 1024, 1), 'b.txt': 'hello\n' });
  const { id } = await backup(repo, { sources: [src] });

  const index = await repo.loadIndex();
  assert.ok(index.files.size > 0);
  await verifySnapshot(repo, id, undefined, index);
  await verifySnapshot(repo, id);

  const [name] = readdirSync(join(dir, 'repo', 'index'));
  rmSync(join(dir, 'repo', 'index', name!));
  await assert.rejects(verifySnapshot(repo, id, undefined, index), (e: unknown) => e instanceof IntegrityError && e.message.includes(`index/${name}`) && /missing/.test(e.message));
});
