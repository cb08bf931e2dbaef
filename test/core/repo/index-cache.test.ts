import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { test } from 'node:test';
import { backup } from '../../../src/core/backup/backup.js';
import { IntegrityError } from '../../../src/core/errors.js';
import { IndexCache } from '../../../src/core/repo/index-cache.js';
import { MasterIndex } from '../../../src/core/repo/master-index.js';
import { Repository } from '../../../src/core/repo/repository.js';
import { repoWithSource } from '../../helpers/repo.js';
import { pseudoRandomBytes, tempDir } from '../../helpers/tmp.js';

function someIndex(packs: number): MasterIndex {
  const index = new MasterIndex();
  for (let p = 0; p < packs; p++) {
    const entries = Array.from({ length: 300 }, (_, i) => ({ type: i % 9 === 0 ? ('tree' as const) : ('data' as const), id: randomBytes(32), offset: i * 5000, length: 4000 + i, rawLength: 3000 + i }));
    index.addPack({ id: randomBytes(32).toString('hex'), size: 300 * 5000 + 100, entries });
  }
  // One index file whose packs are known, and one recorded by name only.
  index.addFileName('a'.repeat(64), [...index.packs.keys()].slice(0, 2));
  index.files.add('b'.repeat(64));
  return index;
}

function sameIndex(a: MasterIndex, b: MasterIndex): void {
  assert.deepEqual([...b.files].sort(), [...a.files].sort());
  for (const f of a.files) assert.deepEqual(b.packsOfFile(f), a.packsOfFile(f));
  assert.deepEqual([...b.packs], [...a.packs]);
  assert.equal(b.blobCount, a.blobCount);
  for (const pack of a.packs.keys()) {
    const blobs = a.blobsOfPack(pack)!;
    assert.deepEqual(b.blobsOfPack(pack), blobs);
    for (const blob of blobs) assert.deepEqual(b.get(blob.id), a.get(blob.id));
  }
}

test('an index comes back from its bytes exactly, and inconsistent bytes are refused', () => {
  const index = someIndex(7);
  const bytes = index.toBytes();
  sameIndex(index, MasterIndex.fromBytes(bytes));
  sameIndex(new MasterIndex(), MasterIndex.fromBytes(new MasterIndex().toBytes()));
  for (const broken of [bytes.subarray(0, bytes.length - 1), Buffer.concat([bytes, Buffer.of(0)]), bytes.subarray(0, 3), Buffer.alloc(0)]) {
    assert.throws(() => MasterIndex.fromBytes(broken));
  }
  assert.equal(index.packsOfFile('a'.repeat(64))!.length, 2);
  assert.equal(index.packsOfFile('b'.repeat(64)), undefined);
  // A cache written before the packs of each index file were kept: the same index, with those unknown.
  const headLength = bytes.readUInt32LE(0);
  const head = JSON.parse(bytes.subarray(4, 4 + headLength).toString('utf8')) as Record<string, unknown>;
  delete head.filePacks;
  const oldHead = Buffer.from(JSON.stringify(head), 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32LE(oldHead.length);
  const old = MasterIndex.fromBytes(Buffer.concat([length, oldHead, bytes.subarray(4 + headLength)]));
  assert.deepEqual([...old.packs], [...index.packs]);
  assert.equal(old.packsOfFile('a'.repeat(64)), undefined);
  // Pack numbers that name no pack are refused.
  head.filePacks = [[99], null];
  const badHead = Buffer.from(JSON.stringify(head), 'utf8');
  length.writeUInt32LE(badHead.length);
  assert.throws(() => MasterIndex.fromBytes(Buffer.concat([length, badHead, bytes.subarray(4 + headLength)])), /file packs/);
});

test('an index comes back from its bytes handed over in pieces of any size, and a header that claims more rows than come is refused at once', () => {
  const index = someIndex(3);
  const bytes = index.toBytes();
  for (const cut of [1, 7, 4097, bytes.length]) {
    const reading = MasterIndex.fromPieces(bytes.length);
    for (let at = 0; at < bytes.length; at += cut) reading.push(bytes.subarray(at, at + cut));
    sameIndex(index, reading.finish());
  }
  const short = MasterIndex.fromPieces(bytes.length);
  short.push(bytes.subarray(0, bytes.length - 1));
  assert.throws(() => short.finish(), /truncated/);
  const long = MasterIndex.fromPieces(bytes.length + 1);
  assert.throws(() => long.push(Buffer.concat([bytes, Buffer.of(0)])), /trailing bytes/);

  // The row count sits after the header; claiming one row more than the bytes hold fails before any room is taken for them.
  const headLength = bytes.readUInt32LE(0);
  const claimed = Buffer.from(bytes);
  claimed.writeUInt32LE(index.blobCount + 1, 4 + headLength);
  const reading = MasterIndex.fromPieces(claimed.length);
  assert.throws(() => reading.push(claimed.subarray(0, 8 + headLength)), /truncated/);
});

test('a cache larger than one read opens whole, and damage anywhere in it, its tag included, is a miss', (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const key = randomBytes(32);
  // 120 packs of 300 blobs: 1.6 MB of rows, more than one 1 MiB read.
  const index = someIndex(120);
  const names = [...index.files];
  const cache = new IndexCache(dir, 'repo1', key);
  cache.save(index);
  const file = join(dir, 'repo1.index');
  const sealed = readFileSync(file);
  assert.ok(sealed.length > 1024 * 1024 + 28);
  sameIndex(index, new IndexCache(dir, 'repo1', key).load(names)!);
  for (const at of [0, 20, 1024 * 1024 + 100, sealed.length - 1]) {
    const damaged = Buffer.from(sealed);
    damaged[at]! ^= 1;
    writeFileSync(file, damaged);
    assert.equal(new IndexCache(dir, 'repo1', key).load(names), null, `a flipped byte at ${at}`);
  }
  writeFileSync(file, sealed.subarray(0, sealed.length - 1));
  assert.equal(new IndexCache(dir, 'repo1', key).load(names), null, 'a byte short');
  writeFileSync(file, sealed.subarray(0, 20));
  assert.equal(new IndexCache(dir, 'repo1', key).load(names), null, 'shorter than a nonce and a tag');
});

test('the cache answers only for the same index files, the same repository and the same key; damage is a miss', (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const key = randomBytes(32);
  const index = someIndex(3);
  const names = [...index.files];
  const cache = new IndexCache(dir, 'repo1', key);
  assert.equal(cache.load(names), null, 'nothing saved yet');
  cache.save(index);
  sameIndex(index, cache.load([...names].reverse())!);
  assert.equal(cache.load([names[0]!]), null, 'an index file gone');
  assert.equal(cache.load([...names, 'c'.repeat(64)]), null, 'an index file more');
  assert.equal(new IndexCache(dir, 'repo1', randomBytes(32)).load(names), null, 'another key');
  assert.equal(new IndexCache(dir, 'repo2', key).load(names), null, 'another repository');

  const file = join(dir, 'repo1.index');
  const bytes = readFileSync(file);
  bytes[bytes.length >> 1]! ^= 1;
  writeFileSync(file, bytes);
  assert.equal(cache.load(names), null, 'a flipped byte');
  assert.deepEqual(readdirSync(dir).sort(), ['repo1.index'], 'no temporary files are left');
});

test('a cache folder that cannot be made is not an error', (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  writeFileSync(join(dir, 'taken'), 'a file where the cache folder would go');
  const cache = new IndexCache(join(dir, 'taken'), 'r', randomBytes(32));
  const index = someIndex(1);
  cache.save(index);
  assert.equal(cache.load([...index.files]), null);
  assert.deepEqual(readdirSync(dir), ['taken']);
});

test('a repository opened with a cache uses it while the index files are the same, and still names one damaged in storage', async (t) => {
  const { dir, src, key, backend, repo: first } = await repoWithSource(t, { 'a.bin': pseudoRandomBytes(2 * 1024 * 1024, 7) });
  first.useIndexCache(join(dir, 'cache'));
  await backup(first, { sources: [src] });
  assert.equal(readdirSync(join(dir, 'cache')).length, 1, 'the backup left its index in the cache');

  // The cache is still used while the files are intact…
  const cached = await Repository.open(backend, { kind: 'key', key });
  cached.useIndexCache(join(dir, 'cache'));
  const real = await cached.loadIndex();
  assert.ok(real.blobCount > 0);
  // Proof that it is the cache answering: a sealed copy saying something else, for the same files, is believed.
  const other = someIndex(1);
  other.files.clear();
  for (const f of real.files) other.files.add(f);
  new IndexCache(join(dir, 'cache'), cached.config.id, cached.keys.meta).save(other);
  const reopened = await Repository.open(backend, { kind: 'key', key });
  reopened.useIndexCache(join(dir, 'cache'));
  assert.equal((await reopened.loadIndex()).blobCount, other.blobCount);
  new IndexCache(join(dir, 'cache'), cached.config.id, cached.keys.meta).save(real.clone());
  const cacheFile = join(dir, 'cache', readdirSync(join(dir, 'cache'))[0]!);
  const sealedCache = readFileSync(cacheFile);

  // …but an index file damaged in place (same name, other bytes) is named as it would be without it.
  const [name] = readdirSync(join(dir, 'repo', 'index'));
  const path = join(dir, 'repo', 'index', name!);
  const bytes = readFileSync(path);
  bytes[40]! ^= 1;
  writeFileSync(path, bytes);
  for (const cacheDir of [join(dir, 'cache'), null]) {
    const repo = await Repository.open(backend, { kind: 'key', key });
    repo.useIndexCache(cacheDir);
    await assert.rejects(repo.loadIndex(), (e: unknown) => e instanceof IntegrityError && e.message.includes(`index/${name}`) && /do not match the object name/.test(e.message));
  }
  assert.deepEqual(readFileSync(cacheFile), sealedCache, 'a failed load leaves the cache as it was');
});

test('a backup that stores nothing new leaves the cached index as it is; one that stores something replaces it', async (t) => {
  const { dir, src, key, backend, repo } = await repoWithSource(t, { 'a.bin': pseudoRandomBytes(1024 * 1024, 3) });
  const cacheDir = join(dir, 'cache');
  repo.useIndexCache(cacheDir);
  await backup(repo, { sources: [src] });
  const cacheFile = join(cacheDir, readdirSync(cacheDir)[0]!);
  const sealed = readFileSync(cacheFile);

  const reopened = await Repository.open(backend, { kind: 'key', key });
  reopened.useIndexCache(cacheDir);
  for (const opened of [repo, reopened]) {
    await backup(opened, { sources: [src] });
    // Sealing uses a fresh nonce, so a rewrite would change the bytes even for the same index.
    assert.deepEqual(readFileSync(cacheFile), sealed, 'an unchanged backup does not rewrite the cache');
  }

  writeFileSync(join(src, 'b.bin'), pseudoRandomBytes(1024 * 1024, 4));
  const grown = await Repository.open(backend, { kind: 'key', key });
  grown.useIndexCache(cacheDir);
  await backup(grown, { sources: [src] });
  assert.notDeepEqual(readFileSync(cacheFile), sealed, 'new data rewrites the cache');
  const again = await Repository.open(backend, { kind: 'key', key });
  again.useIndexCache(cacheDir);
  const cached = new IndexCache(cacheDir, again.config.id, again.keys.meta).load(readdirSync(join(dir, 'repo', 'index')));
  assert.ok(cached, 'the rewritten cache matches the index files in storage');
  assert.equal(cached.blobCount, (await again.loadIndex()).blobCount);
});
