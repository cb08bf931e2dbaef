// The committed vectors in docs/vectors were written by this implementation
// at format version 1; reading them back guards the format against drift.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { lstatSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { restoreBundle } from '../../src/core/bundle/restore-bundle.js';
import { checkRepository } from '../../src/core/check/check.js';
import { gearTable } from '../../src/core/chunking/fastcdc.js';
import { RootKey } from '../../src/core/keys/root-key.js';
import { Repository } from '../../src/core/repo/repository.js';
import { restore } from '../../src/core/restore/restore.js';
import { LocalFolderBackend } from '../../src/core/storage/local-folder.js';
import { REPO_ROOT } from '../helpers/fixtures.js';
import { tempDir } from '../helpers/tmp.js';

const dir = join(REPO_ROOT, 'docs', 'vectors');
const vectors = JSON.parse(readFileSync(join(dir, 'vectors.json'), 'utf8'));

function assertRestored(target: string) {
  for (const [rel, sha] of Object.entries(vectors.files as Record<string, string>)) {
    assert.equal(createHash('sha256').update(readFileSync(join(target, rel))).digest('hex'), sha, rel);
    assert.equal(Math.floor(statSync(join(target, rel)).mtimeMs / 1000), vectors.mtimeSeconds, `${rel} mtime`);
  }
  for (const [rel, linkTarget] of Object.entries(vectors.symlinks as Record<string, string>)) {
    assert.ok(lstatSync(join(target, rel)).isSymbolicLink(), `${rel} is a link`);
    assert.equal(readlinkSync(join(target, rel)), linkTarget);
  }
  for (const [rel, mode] of Object.entries(vectors.modes as Record<string, number>)) {
    assert.equal(statSync(join(target, rel)).mode & 0o7777, mode, `${rel} mode`);
  }
}

test('the vector repository opens with its key and derives the documented subkeys', async () => {
  const repo = await Repository.open(new LocalFolderBackend(join(dir, 'repo')), { kind: 'key', key: RootKey.parse(vectors.key) });
  assert.equal(repo.masterKeyForBundle().toString('hex'), vectors.masterKey);
  assert.equal(repo.config.id, vectors.repositoryId);
  assert.deepEqual(
    Object.fromEntries(Object.entries(repo.keys).map(([k, v]) => [k, (v as Buffer).toString('hex')])),
    vectors.subkeys,
  );
  assert.deepEqual([...gearTable(repo.keys.chunker).slice(0, 8)], vectors.gearFirst8);
  const report = await checkRepository(repo, { readData: true });
  assert.deepEqual(report.errors, []);
  assert.equal(report.counts.snapshots, 1);
});

test('the vector repository holds a file in chunk lists, which read back as its chunks', async () => {
  const repo = await Repository.open(new LocalFolderBackend(join(dir, 'repo')), { kind: 'key', key: RootKey.parse(vectors.key) });
  const index = await repo.loadIndex();
  let treeId = (await repo.findSnapshot('latest')).snapshot.tree;
  const parts = (vectors.chunkListed.path as string).split('/');
  for (const name of parts.slice(0, -1)) {
    const dirNode = (await repo.loadStoredTree(index, treeId)).nodes.find((n) => n.name === name);
    assert.ok(dirNode?.type === 'dir', name);
    treeId = dirNode.subtree;
  }
  const stored = (await repo.loadStoredTree(index, treeId)).nodes.find((n) => n.name === parts.at(-1));
  assert.ok(stored?.type === 'file' && stored.content === undefined);
  assert.equal(stored.chunkLists?.length, vectors.chunkListed.lists);
  assert.equal((await repo.withContent(index, stored)).content.length, vectors.chunkListed.chunks);
});

test('the vector repository restores to the documented files', async () => {
  const t = tempDir();
  try {
    const repo = await Repository.open(new LocalFolderBackend(join(dir, 'repo')), { kind: 'key', key: RootKey.parse(vectors.key) });
    const snap = await repo.findSnapshot('latest');
    assert.equal(snap.id, vectors.snapshot);
    await restore(repo, { snapshot: snap, target: t.dir });
    assertRestored(t.dir);
  } finally {
    t.cleanup();
  }
});

test('the vector bundle restores to the same files', async () => {
  const t = tempDir();
  try {
    await restoreBundle(join(dir, 'bundle.chatsafe'), { kind: 'key', key: RootKey.parse(vectors.key) }, t.dir);
    assertRestored(t.dir);
  } finally {
    t.cleanup();
  }
});
