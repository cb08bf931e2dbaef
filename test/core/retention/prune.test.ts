import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test, type TestContext } from 'node:test';
import { backup } from '../../../src/core/backup/backup.js';
import { IntegrityError } from '../../../src/core/errors.js';
import type { BlobIndex } from '../../../src/core/repo/master-index.js';
import { RootKey } from '../../../src/core/keys/root-key.js';
import { Repository } from '../../../src/core/repo/repository.js';
import { restore } from '../../../src/core/restore/restore.js';
import { forget, prune } from '../../../src/core/retention/retention.js';
import { objectPath } from '../../../src/core/storage/backend.js';
import type { LocalFolderBackend } from '../../../src/core/storage/local-folder.js';
import { repoWithSource } from '../../helpers/repo.js';
import { pseudoRandomBytes } from '../../helpers/tmp.js';

const KEEP = pseudoRandomBytes(300_000, 11);
const DROP = pseudoRandomBytes(900_000, 12);

/**
 * Two backups: the first of a file kept and a larger one then deleted, the
 * second of the kept file only; the first is forgotten. The one data pack now
 * holds mostly unused bytes, so prune must move the kept file's blobs (which
 * come first in the pack, by name) into a new pack.
 */
async function repoToRepack(t: TestContext) {
  const r = await repoWithSource(t, { 'a-keep.bin': KEEP, 'b-drop.bin': DROP });
  await backup(r.repo, { sources: [r.src] });
  rmSync(join(r.src, 'b-drop.bin'));
  await backup(r.repo, { sources: [r.src] });
  await forget(r.repo, 1);
  const index = await r.repo.loadIndex();
  const dataPacks = [...index.packs.keys()].filter((p) => index.blobsOfPack(p)!.some((b) => b.type === 'data'));
  assert.equal(dataPacks.length, 1, 'both files went into one data pack');
  return { ...r, pack: dataPacks[0]! };
}

/** An index as what can be asked of it, in a fixed order: two that describe alike answer alike. */
function described(index: BlobIndex) {
  return {
    files: [...index.files].sort(),
    packs: [...index.packs].map(([name, p]) => [name, p.size, p.blobCount] as const).sort(),
    blobs: [...index.packs.keys()].flatMap((p) => index.blobsOfPack(p)!).sort((a, b) => a.id.localeCompare(b.id)),
    count: index.blobCount,
    fileOfPack: [...index.files].sort().map((f) => [...(index.packsOfFile(f) ?? [])].sort()),
  };
}

async function indexFromFiles(backend: LocalFolderBackend, key: RootKey): Promise<BlobIndex> {
  const opened = await Repository.open(backend, { kind: 'key', key });
  opened.useIndexCache(null);
  return opened.loadIndex();
}

function files(dir: string): Map<string, number> {
  const out = new Map<string, number>();
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.set(relative(dir, p), statSync(p).size);
    }
  };
  walk(dir);
  return out;
}

test('prune moves the blobs still used out of a mostly unused pack, and they restore exactly', async (t) => {
  const r = await repoToRepack(t);
  const result = await prune(r.repo);
  assert.ok(result.packsRewritten >= 1, 'the data pack (and the tree pack) were rewritten');
  assert.equal(existsSync(join(r.dir, 'repo', objectPath('data', r.pack))), false);
  assert.ok(result.bytesFreed > DROP.length * 0.9, `${result.bytesFreed} bytes freed`);
  const [snapshot] = await r.repo.listSnapshots();
  const target = join(r.dir, 'restored');
  await restore(r.repo, { snapshot: snapshot!, target });
  assert.ok(readFileSync(join(target, 'src', 'a-keep.bin')).equals(KEEP));
});

test('a blob that must move but fails authentication stops prune before anything is written or removed', async (t) => {
  const r = await repoToRepack(t);
  const repoDir = join(r.dir, 'repo');
  const packFile = join(repoDir, objectPath('data', r.pack));
  const bytes = readFileSync(packFile);
  bytes[100] = bytes[100]! ^ 0x01; // inside the first blob: the kept file's first chunk
  writeFileSync(packFile, bytes);
  const before = files(repoDir);
  await assert.rejects(prune(r.repo), (e: unknown) => e instanceof IntegrityError && e.message.includes(objectPath('data', r.pack)) && /authentication/.test(e.message));
  const after = files(repoDir);
  for (const name of [...after.keys()].filter((n) => n.startsWith('locks'))) after.delete(name);
  for (const name of [...before.keys()].filter((n) => n.startsWith('locks'))) before.delete(name);
  assert.deepEqual(after, before, 'no pack or index file was written or removed');
});

test('prune replaces only the index files that name a pack it removes or rewrites; the others stay as they are', async (t) => {
  // The first backup: a folder of 200 files, whose listing is most of its tree pack, so the pack
  // stays when the top-level listings change. Then a file is added, and replaced by another; once
  // the older snapshots are forgotten, only the second backup's packs go.
  const keep = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`keep/file-${String(i).padStart(3, '0')}.txt`, `kept ${i}`]));
  const r = await repoWithSource(t, {});
  mkdirSync(join(r.src, 'keep'));
  for (const [name, data] of Object.entries(keep)) writeFileSync(join(r.src, name), data);
  const indexFiles = () => new Set(readdirSync(join(r.dir, 'repo', 'index')));
  await backup(r.repo, { sources: [r.src] });
  const first = indexFiles();
  writeFileSync(join(r.src, 'b.bin'), pseudoRandomBytes(200_000, 22));
  await backup(r.repo, { sources: [r.src] });
  const second = [...indexFiles()].filter((f) => !first.has(f));
  rmSync(join(r.src, 'b.bin'));
  writeFileSync(join(r.src, 'c.bin'), pseudoRandomBytes(200_000, 23));
  await backup(r.repo, { sources: [r.src] });
  const third = [...indexFiles()].filter((f) => !first.has(f) && !second.includes(f));
  await forget(r.repo, 1);
  assert.deepEqual([first.size, second.length, third.length], [1, 1, 1], 'one index file per backup');
  const index = await r.repo.loadIndex();
  const secondPacks = index.packsOfFile(second[0]!)!;

  const result = await prune(r.repo);
  const after = indexFiles();
  for (const pack of secondPacks) assert.equal(existsSync(join(r.dir, 'repo', objectPath('data', pack))), false, 'the second backup\'s packs are gone');
  assert.deepEqual([...after].sort(), [...first, ...third].sort(), 'its index file is removed, the others are untouched');
  assert.equal(result.indexFilesReplaced, 1);
  assert.equal(result.packsDeleted, secondPacks.length);

  // As a fresh reader sees it: the snapshot restores, and a second prune has nothing to do.
  const [snapshot] = await r.repo.listSnapshots();
  const target = join(r.dir, 'restored');
  await restore(r.repo, { snapshot: snapshot!, target });
  const restored = files(join(target, 'src'));
  assert.equal(restored.size, 201);
  assert.ok(readFileSync(join(target, 'src', 'c.bin')).equals(pseudoRandomBytes(200_000, 23)));
  assert.equal(readFileSync(join(target, 'src', 'keep', 'file-123.txt'), 'utf8'), 'kept 123');
  assert.deepEqual(await prune(r.repo), { packsDeleted: 0, packsRewritten: 0, bytesFreed: 0, indexFilesReplaced: 0 });
});

test('past 32 index files, prune merges the smallest into one file and leaves the largest as it is', async (t) => {
  const r = await repoWithSource(t, { 'big.bin': pseudoRandomBytes(3_000_000, 21) });
  await backup(r.repo, { sources: [r.src] });
  const listIndex = async () => {
    const names: string[] = [];
    for await (const o of r.backend.list('index')) names.push(o.name);
    return names.sort();
  };
  const [first] = await listIndex();
  // Every backup after it adds a small index file: one new file's pack and one listing's.
  for (let i = 0; i < 33; i++) {
    writeFileSync(join(r.src, `f${i}.bin`), pseudoRandomBytes(2000, 100 + i));
    await backup(r.repo, { sources: [r.src] });
  }
  const before = await listIndex();
  assert.equal(before.length, 34);
  const indexBefore = await r.repo.loadIndex();
  const largest = Math.max(...[...indexBefore.files].map((f) => indexBefore.packsOfFile(f)!.reduce((n, p) => n + indexBefore.blobCountOf(p)!, 0)));
  assert.equal(indexBefore.packsOfFile(first!)!.reduce((n, p) => n + indexBefore.blobCountOf(p)!, 0), largest, 'the first backup\'s file is the largest');

  const result = await prune(r.repo);
  const after = await listIndex();
  assert.ok(after.length <= 17 && after.length >= 2, `index files after: ${after.length}`);
  assert.ok(after.includes(first!), 'the largest file is not rewritten');
  assert.equal(result.indexFilesReplaced, before.length - after.length + 1);
  assert.equal(result.packsDeleted, 0);
  // The merged file lists exactly what the files it replaced listed.
  const indexAfter = await r.repo.loadIndex();
  assert.equal(indexAfter.blobCount, indexBefore.blobCount);
  for (const pack of indexBefore.packs.keys()) assert.deepEqual(indexAfter.blobsOfPack(pack), indexBefore.blobsOfPack(pack));
  assert.equal(indexAfter, indexBefore, 'the repository\'s own index was brought up to date');
  assert.deepEqual(described(indexAfter), described(await indexFromFiles(r.backend, r.key)));
  const again = await prune(r.repo);
  assert.equal(again.indexFilesReplaced, 0, 'well under the limit, the next prune merges nothing');
});

test('after prune, the shared index and the cached copy say what the index files left in storage say', async (t) => {
  const r = await repoToRepack(t);
  const cacheDir = join(r.dir, 'cache');
  r.repo.useIndexCache(cacheDir);
  const before = await r.repo.loadIndex();
  const result = await prune(r.repo);
  assert.equal(result.packsRewritten, 1);

  const asBuilt = async (cache: string | null) => {
    const opened = await Repository.open(r.backend, { kind: 'key', key: r.key });
    opened.useIndexCache(cache);
    return opened.loadIndex();
  };
  const fromFiles = await indexFromFiles(r.backend, r.key);
  const cacheFile = join(cacheDir, readdirSync(cacheDir)[0]!);
  const sealed = readFileSync(cacheFile);
  const fromCache = await asBuilt(cacheDir);
  assert.deepEqual(readFileSync(cacheFile), sealed, 'the cache was current: a reader used it as it was');
  const shared = await r.repo.loadIndex();
  assert.equal(shared, before, 'the repository\'s own index was brought up to date, not built again');

  const expected = described(fromFiles);
  assert.ok(!expected.packs.some(([name]) => name === r.pack), 'the rewritten pack is gone');
  for (const index of [fromCache, shared]) {
    assert.deepEqual(described(index), expected);
    for (const b of expected.blobs) assert.deepEqual(index.get(b.id), fromFiles.get(b.id));
  }
  const [snapshot] = await r.repo.listSnapshots();
  const target = join(r.dir, 'restored');
  await restore(r.repo, { snapshot: snapshot!, target });
  assert.ok(readFileSync(join(target, 'src', 'a-keep.bin')).equals(KEEP));
});
