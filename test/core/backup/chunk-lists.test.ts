/**
 * A file of more than LIST_IDS chunks keeps its chunk ids in chunk lists (FORMAT.md §8): a
 * database of 8197 pages (sparse: a SQLite header, distinct pages at both ends and across the
 * list boundary, holes that read as zero pages) backs up with two lists, restores byte for byte,
 * is reused unread by the next backup, survives retention, and a damaged list stops the restore.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { backup } from '../../../src/core/backup/backup.js';
import { BlobSaver, PACK_TARGET_BYTES } from '../../../src/core/backup/blob-saver.js';
import { exportBundle } from '../../../src/core/bundle/export.js';
import { restoreBundle } from '../../../src/core/bundle/restore-bundle.js';
import { checkRepository } from '../../../src/core/check/check.js';
import { IntegrityError } from '../../../src/core/errors.js';
import { CryptoPool } from '../../../src/core/jobs/crypto-pool.js';
import { RootKey } from '../../../src/core/keys/root-key.js';
import { ChunkList } from '../../../src/core/repo/chunk-list.js';
import { Repository } from '../../../src/core/repo/repository.js';
import { encodeTree, LIST_IDS, type FileNode } from '../../../src/core/repo/tree.js';
import { restore } from '../../../src/core/restore/restore.js';
import { applyRetention } from '../../../src/core/retention/retention.js';
import { objectPath } from '../../../src/core/storage/backend.js';
import { LocalFolderBackend } from '../../../src/core/storage/local-folder.js';
import { writeSparseDatabase } from '../../helpers/sparse-database.js';
import { tempDir } from '../../helpers/tmp.js';

const PAGES = LIST_IDS + 5;

function writeDatabase(path: string, seed: number): void {
  writeSparseDatabase(path, PAGES, [1, 2, LIST_IDS - 1, LIST_IDS, PAGES - 1], seed * 100_000);
}

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

async function setUp(t: TestContext) {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const src = join(dir, 'export');
  mkdirSync(src);
  writeDatabase(join(src, 'msgstore.db'), 1);
  writeFileSync(join(src, 'small.txt'), 'a small file keeps its ids inline');
  const backend = new LocalFolderBackend(join(dir, 'repo'));
  const key = RootKey.generate();
  const repo = await Repository.init(backend, key);
  return { dir, src, backend, repo, key };
}

async function databaseNode(repo: Repository, snapshotTree: string): Promise<{ node: FileNode; small: FileNode; folderTree: string }> {
  const index = await repo.loadIndex();
  const root = await repo.loadTree(index, snapshotTree);
  const folder = root.nodes[0]!;
  assert.ok(folder.type === 'dir');
  const tree = await repo.loadTree(index, folder.subtree);
  const find = (name: string) => tree.nodes.find((n): n is FileNode => n.name === name && n.type === 'file')!;
  return { node: find('msgstore.db'), small: find('small.txt'), folderTree: folder.subtree };
}

test('a file of more than LIST_IDS chunks is stored with chunk lists, read back whole, and restored byte for byte', async (t) => {
  const { dir, src, repo } = await setUp(t);
  const first = await backup(repo, { sources: [src] });
  const { node, small, folderTree } = await databaseNode(repo, first.snapshot.tree);
  assert.equal(node.content.length, PAGES);
  assert.equal(node.chunkLists?.length, 2);
  assert.equal(small.chunkLists, undefined);
  assert.equal(small.content.length, 1);

  // As stored, the folder's listing names the two lists, not the 8197 pages.
  const index = await repo.loadIndex();
  const listing = (await repo.readBlob(index, 'tree', folderTree)).toString('utf8');
  assert.ok(listing.length < 2000, `the listing is ${listing.length} bytes`);
  assert.match(listing, /"chunkLists":\["[0-9a-f]{64}","[0-9a-f]{64}"\]/);
  assert.equal(index.get(node.chunkLists!.hex(0))?.rawLength, LIST_IDS * 32);
  assert.equal(index.get(node.chunkLists!.hex(1))?.rawLength, 5 * 32);

  const report = await checkRepository(repo, { readData: true });
  assert.deepEqual(report.errors, []);
  assert.equal(report.counts.trees, 4, 'two folders and two chunk lists');

  const target = join(dir, 'restored');
  await restore(repo, { snapshot: await repo.findSnapshot('latest'), target });
  assert.equal(sha256(join(target, 'export', 'msgstore.db')), sha256(join(src, 'msgstore.db')));

  // Unchanged, the file is reused unread with its lists, and the folder keeps its tree.
  const again = await backup(repo, { sources: [src] });
  assert.equal(again.reusedFiles, 2);
  assert.equal(again.snapshot.tree, first.snapshot.tree);
});

test('a snapshot with chunk lists exports to a bundle that restores byte for byte', async (t) => {
  const { dir, src, repo, key } = await setUp(t);
  await backup(repo, { sources: [src] });
  const file = join(dir, 'export.chatsafe');
  await exportBundle(repo, await repo.findSnapshot('latest'), file);
  const target = join(dir, 'from-bundle');
  await restoreBundle(file, { kind: 'key', key }, target);
  assert.equal(sha256(join(target, 'export', 'msgstore.db')), sha256(join(src, 'msgstore.db')));
  assert.equal(readFileSync(join(target, 'export', 'small.txt'), 'utf8'), 'a small file keeps its ids inline');
});

test('chunk lists of a changed database are kept by retention and the new snapshot restores', async (t) => {
  const { dir, src, repo } = await setUp(t);
  await backup(repo, { sources: [src] });
  writeDatabase(join(src, 'msgstore.db'), 2);
  const second = await backup(repo, { sources: [src] });
  const { forgotten, pruned } = await applyRetention(repo, 1);
  assert.equal(forgotten.length, 1);
  assert.ok(pruned && pruned.packsDeleted + pruned.packsRewritten > 0, JSON.stringify(pruned));
  assert.equal((await repo.listSnapshots()).length, 1);
  const report = await checkRepository(repo, { readData: true });
  assert.deepEqual(report.errors, []);
  const target = join(dir, 'restored');
  await restore(repo, { snapshot: await repo.findSnapshot(second.id), target });
  assert.equal(sha256(join(target, 'export', 'msgstore.db')), sha256(join(src, 'msgstore.db')));
});

test('a damaged chunk list stops the restore and fails the check, naming its pack', async (t) => {
  const { dir, src, repo, backend, key } = await setUp(t);
  const first = await backup(repo, { sources: [src] });
  const { node } = await databaseNode(repo, first.snapshot.tree);
  const index = await repo.loadIndex();
  const loc = index.get(node.chunkLists!.hex(1))!;
  const packFile = join(dir, 'repo', objectPath('data', loc.pack));
  const bytes = readFileSync(packFile);
  bytes[loc.offset + 40]! ^= 1;
  writeFileSync(packFile, bytes);

  // A new repository object, so nothing read before the damage is reused.
  const reopened = await Repository.open(backend, { kind: 'key', key });
  await assert.rejects(
    restore(reopened, { snapshot: await reopened.findSnapshot('latest'), target: join(dir, 'restored') }),
    (e: unknown) => e instanceof IntegrityError && e.message.includes(loc.pack),
  );
  const report = await checkRepository(reopened, { readData: true });
  assert.ok(report.errors.some((p) => p.object.includes(loc.pack)), JSON.stringify(report.errors));
});

test('a chunk list that is not a whole number of ids, or is missing, is damage naming it', async (t) => {
  const { repo } = await setUp(t);
  const index = await repo.loadIndexForUpdate();
  const pool = new CryptoPool(repo.keys, 1, { indexedIds: index.sharedIds(), packTarget: PACK_TARGET_BYTES });
  t.after(() => pool.close());
  const saver = new BlobSaver(repo, index, pool);
  // Stored through the real writer, sealed and indexed like any tree blob; only its length is wrong.
  const odd = saver.save('tree', Buffer.alloc(33, 7), false);
  const missing = '5'.repeat(64);
  const tree = (lists: string[]) => saver.save('tree', encodeTree({ nodes: [{ name: 'f', type: 'file', mode: 0o600, mtimeNs: '1', size: 4096, content: ChunkList.EMPTY, chunkLists: ChunkList.ofHex(lists) }] }), true);
  const withOdd = tree([odd]);
  const withMissing = tree([missing]);
  await saver.flush();
  await assert.rejects(repo.loadTree(index, withOdd), (e: unknown) => e instanceof IntegrityError && e.message.includes(`chunk list ${odd.slice(0, 16)}`) && e.message.includes('33 bytes'));
  await assert.rejects(repo.loadTree(index, withMissing), (e: unknown) => e instanceof IntegrityError && e.message.includes(`chunk list ${missing.slice(0, 16)}`) && e.message.includes('no index lists it'));
});
