import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { backup } from '../../../src/core/backup/backup.js';
import { applyRetention } from '../../../src/core/retention/retention.js';
import type { ObjectKind } from '../../../src/core/storage/backend.js';
import { repoWithSource } from '../../helpers/repo.js';

test('a run reads each snapshot from storage once, a verification reads it again, and a forgotten one is not listed', async (t) => {
  const { src, backend, repo } = await repoWithSource(t, { 'a.txt': 'first' });
  const reads: string[] = [];
  const read = backend.read.bind(backend);
  backend.read = (kind: ObjectKind, name: string, ...rest) => {
    if (kind === 'snapshots') reads.push(name);
    return read(kind, name, ...rest);
  };
  const first = await backup(repo, { sources: [src] });
  assert.deepEqual(reads, [first.id], 'the backup verified what it wrote, reading it back');
  writeFileSync(join(src, 'a.txt'), 'second');
  const second = await backup(repo, { sources: [src] });
  // The parent came from what this run had read; the new snapshot was read back to verify it.
  assert.deepEqual(reads, [first.id, second.id]);
  for (let i = 0; i < 3; i++) assert.deepEqual((await repo.listSnapshots()).map((s) => s.id), [first.id, second.id]);
  assert.equal(reads.length, 2, 'listings after that read nothing again');

  const { forgotten } = await applyRetention(repo, 1);
  assert.deepEqual(forgotten.map((s) => s.id), [first.id]);
  assert.deepEqual((await repo.listSnapshots()).map((s) => s.id), [second.id]);
  assert.equal(reads.length, 2);

  const shared = (await repo.listSnapshots())[0]!.snapshot;
  assert.ok(Object.isFrozen(shared) && Object.isFrozen(shared.paths) && Object.isFrozen(shared.summary), 'callers share one copy, which none can change');
  await repo.loadSnapshot(second.id, true);
  assert.deepEqual(reads, [first.id, second.id, second.id], 'fresh reads storage whatever is kept');
});
