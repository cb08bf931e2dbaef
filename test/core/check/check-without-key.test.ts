/**
 * `check --no-key`, what support can run on a repository a user sent: every
 * object's bytes against its name, with no key at all.
 */
import assert from 'node:assert/strict';
import { readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { backup } from '../../../src/core/backup/backup.js';
import { checkWithoutKey } from '../../../src/core/check/check.js';
import { objectPath, type ObjectKind } from '../../../src/core/storage/backend.js';
import type { LocalFolderBackend } from '../../../src/core/storage/local-folder.js';
import { repoWithSource } from '../../helpers/repo.js';
import { pseudoRandomBytes } from '../../helpers/tmp.js';

async function objects(backend: LocalFolderBackend, kind: ObjectKind): Promise<Array<{ name: string; size: number }>> {
  const out: Array<{ name: string; size: number }> = [];
  for await (const o of backend.list(kind)) out.push({ name: o.name, size: o.size });
  return out;
}

test('check without the key reads every object once and names each one whose bytes no longer match its name', async (t) => {
  // Incompressible files of 10 MB in all: several packs, each read while another is hashed.
  const { dir, src, backend, repo } = await repoWithSource(t, { 'a.bin': pseudoRandomBytes(6_000_000, 1), 'b.bin': pseudoRandomBytes(4_000_000, 2), 'note.txt': 'hello\n' });
  await backup(repo, { sources: [src] });
  const packs = await objects(backend, 'data');
  const index = await objects(backend, 'index');
  const snapshots = await objects(backend, 'snapshots');
  assert.ok(packs.length >= 3, `${packs.length} packs`);
  const total = [...packs, ...index, ...snapshots].reduce((n, o) => n + o.size, 0);

  const clean = await checkWithoutKey(backend, { readData: true });
  assert.deepEqual(clean.errors, []);
  assert.equal(clean.ok, true);
  assert.deepEqual([clean.counts.packs, clean.counts.indexFiles, clean.counts.snapshots], [packs.length, index.length, snapshots.length]);
  assert.equal(clean.counts.bytesRead, total, 'every byte of every object, once');

  const listed = await checkWithoutKey(backend, { readData: false });
  assert.equal(listed.counts.bytesRead, 0);
  assert.ok(listed.warnings.some((w) => /--read-data/.test(w.message)));

  // One flipped byte in the middle pack, the last index file cut short.
  const flipped = packs[Math.floor(packs.length / 2)]!;
  const flippedPath = join(dir, 'repo', objectPath('data', flipped.name));
  const bytes = readFileSync(flippedPath);
  bytes[bytes.length >> 1]! ^= 1;
  writeFileSync(flippedPath, bytes);
  const cut = index[index.length - 1]!;
  truncateSync(join(dir, 'repo', objectPath('index', cut.name)), cut.size - 10);

  const damaged = await checkWithoutKey(backend, { readData: true });
  assert.equal(damaged.ok, false);
  assert.deepEqual(damaged.errors.map((e) => e.object).sort(), [objectPath('data', flipped.name), objectPath('index', cut.name)].sort());
  for (const e of damaged.errors) assert.match(e.message, /do not match|changed|short|ends|size/i, e.message);
});
