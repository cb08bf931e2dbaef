/**
 * A backup verifies its snapshot against its own index, once every index
 * file that index is made of is listed in storage; a missing one fails the
 * verification (and so keeps retention from running).
 */
import assert from 'node:assert/strict';
import { readdirSync, rmSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { backup } from '../../../src/core/backup/backup.js';
import { packSizes, verifySnapshot } from '../../../src/core/backup/verify.js';
import type { Repository } from '../../../src/core/repo/repository.js';
import type { ObjectInfo, ObjectKind, StorageBackend } from '../../../src/core/storage/backend.js';
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

/** The repository's packs, by name, with their sizes on disk. */
function packsOnDisk(dir: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const sub of readdirSync(join(dir, 'repo', 'data'))) {
    for (const name of readdirSync(join(dir, 'repo', 'data', sub))) out.set(name, statSync(join(dir, 'repo', 'data', sub, name)).size);
  }
  return out;
}

/** The same repository seen through a backend whose listing leaves out `hidden` (a store that lists new objects late). */
function withLaggingListing(repo: Repository, hidden: ReadonlySet<string>): Repository {
  const real = repo.backend;
  const lagging = new Proxy(real, {
    get(target, prop) {
      if (prop === 'list') {
        return async function* (kind: ObjectKind): AsyncIterable<ObjectInfo> {
          for await (const info of target.list(kind)) if (!(kind === 'data' && hidden.has(info.name))) yield info;
        };
      }
      const v = Reflect.get(target, prop) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  }) as StorageBackend;
  return new Proxy(repo, { get: (target, prop) => (prop === 'backend' ? lagging : (Reflect.get(target, prop) as unknown)) });
}

test('pack sizes come from one listing, and a pack the listing leaves out is looked at on its own', async (t) => {
  const { dir, src, repo } = await repoWithSource(t, { 'a.bin': pseudoRandomBytes(9 * 1024 * 1024, 2), 'b.bin': pseudoRandomBytes(2 * 1024 * 1024, 3) });
  await backup(repo, { sources: [src] });
  const onDisk = packsOnDisk(dir);
  assert.ok(onDisk.size >= 3, `several packs (${onDisk.size})`);
  const names = new Set(onDisk.keys());
  for (const listAbove of [0, 1_000]) assert.deepEqual(await packSizes(repo, names, undefined, listAbove), onDisk, `listing above ${listAbove} packs`);
  const [late] = names;
  assert.deepEqual(await packSizes(withLaggingListing(repo, new Set([late!])), names, undefined, 0), onDisk, 'the pack listed late is still found');
  const gone = [...names][1]!;
  rmSync(join(dir, 'repo', 'data', gone.slice(0, 2), gone));
  const without = new Map(onDisk);
  without.delete(gone);
  assert.deepEqual(await packSizes(repo, names, undefined, 0), without, 'a deleted pack has no size');
});

test('verification names a pack that went missing or changed size', async (t) => {
  const { dir, src, repo } = await repoWithSource(t, { 'a.bin': pseudoRandomBytes(5 * 1024 * 1024, 4) });
  const { id } = await backup(repo, { sources: [src] });
  const [first] = [...packsOnDisk(dir).keys()];
  truncateSync(join(dir, 'repo', 'data', first!.slice(0, 2), first!), 100);
  await assert.rejects(verifySnapshot(repo, id), (e: unknown) => e instanceof IntegrityError && e.message.includes(`data/${first!.slice(0, 2)}/${first}`) && /has 100 bytes, the index says/.test(e.message));
  rmSync(join(dir, 'repo', 'data', first!.slice(0, 2), first!));
  await assert.rejects(verifySnapshot(repo, id), (e: unknown) => e instanceof IntegrityError && e.message.includes(first!) && /missing/.test(e.message));
});

test('verification names a file chunk that no index lists', async (t) => {
  const { src, repo } = await repoWithSource(t, { 'a.bin': pseudoRandomBytes(3 * 1024 * 1024, 2) });
  const { id } = await backup(repo, { sources: [src] });
  const index = await repo.loadIndex();
  // The index as it would be had one data chunk's entry been lost: every lookup of it finds nothing.
  const root = await repo.loadTree(index, (await repo.loadSnapshot(id)).tree);
  const folder = root.nodes[0];
  assert.ok(folder && folder.type === 'dir', 'the source folder');
  const file = (await repo.loadTree(index, folder.subtree)).nodes.find((n) => n.type === 'file');
  assert.ok(file && file.type === 'file' && file.content.length > 0);
  const lost = Buffer.from(file.content.id(file.content.length - 1));
  const losing = new Proxy(index, {
    get(target, prop) {
      if (prop === 'packOfAt') return (bytes: Uint8Array, at: number) => (lost.equals(bytes.subarray(at, at + 32)) ? undefined : target.packOfAt(bytes, at));
      const v = Reflect.get(target, prop) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  await assert.rejects(
    verifySnapshot(repo, id, undefined, losing),
    (e: unknown) => e instanceof IntegrityError && e.message.includes(`snapshots/${id}`) && e.message.includes(`needs blob ${lost.toString('hex').slice(0, 16)}`) && /no index lists/.test(e.message),
  );
});
