/**
 * A repository someone else shaped. Without the key: objects that are not files, objects larger
 * than their kind can be, a damaged key slot, header or lock. With it, as a crafted backup would
 * be: a tree that names itself, trees that expand past what a backup stores, a file with setuid
 * bits. Each fails at once naming what is wrong, or is set aside; none hangs, fills memory or
 * leaves anything in the restore target.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { backup } from '../../src/core/backup/backup.js';
import { checkRepository, checkWithoutKey } from '../../src/core/check/check.js';
import { blobId } from '../../src/core/crypto/ids.js';
import { ChatsafeError, IntegrityError, WrongKeyError } from '../../src/core/errors.js';
import { RootKey } from '../../src/core/keys/root-key.js';
import { withLock } from '../../src/core/repo/lock.js';
import { readHeader, Repository } from '../../src/core/repo/repository.js';
import { MAX_SNAPSHOT_ENTRIES, MAX_TREE_DEPTH } from '../../src/core/repo/tree.js';
import { restore } from '../../src/core/restore/restore.js';
import { saveCraftedSnapshot, storeCraftedBlobs, treeBytes } from '../helpers/crafted.js';
import { repoWithSource } from '../helpers/repo.js';
import { tempDir } from '../helpers/tmp.js';
import { initRepo, objectsOf, ok, repoArgs } from './scenario.js';

function objectNames(repoDir: string, kind: string): string[] {
  return readdirSync(join(repoDir, kind)).filter((n) => /^[0-9a-f]+$/.test(n));
}

function rejectsWith(kind: ChatsafeError['kind'], pattern: RegExp): (e: unknown) => boolean {
  return (e) => {
    assert.ok(e instanceof ChatsafeError, `expected a ChatsafeError, got ${String(e)}`);
    assert.equal(e.kind, kind, e.message);
    assert.match(e.message, pattern);
    return true;
  };
}

test('an object that is a FIFO or a device is refused at once, not waited on or read without end', async (t) => {
  const r = await repoWithSource(t, { 'a.txt': 'hello' });
  await backup(r.repo, { sources: [r.src] });
  const root = join(r.dir, 'repo');
  const config = join(root, 'config');
  const saved = readFileSync(config);

  unlinkSync(config);
  execFileSync('mkfifo', [config]);
  await assert.rejects(readHeader(r.backend), rejectsWith('integrity', /^config: is not a regular file/));

  unlinkSync(config);
  symlinkSync('/dev/zero', config);
  await assert.rejects(readHeader(r.backend), rejectsWith('integrity', /^config: is not a regular file/));
  unlinkSync(config);
  writeFileSync(config, saved);

  const [pack] = readdirSync(join(root, 'data')).flatMap((d) => objectNames(join(root, 'data'), d));
  assert.ok(pack);
  const packPath = join(root, 'data', pack.slice(0, 2), pack);
  unlinkSync(packPath);
  execFileSync('mkfifo', [packPath]);
  const repo = await Repository.open(r.backend, { kind: 'key', key: r.key });
  await assert.rejects(restore(repo, { snapshot: await repo.findSnapshot('latest'), target: join(r.dir, 'out') }), rejectsWith('integrity', /is not a regular file/));
  // A listing counts only files, so to check the pack is missing.
  const report = await checkRepository(repo, { readData: true });
  assert.ok(report.errors.some((p) => p.object === `data/${pack.slice(0, 2)}/${pack}`), JSON.stringify(report.errors));
});

test('an object larger than its kind can be is refused before it is read', async (t) => {
  const r = await repoWithSource(t, { 'a.txt': 'hello' });
  await backup(r.repo, { sources: [r.src] });
  const root = join(r.dir, 'repo');
  const [slot] = objectNames(root, 'keys');
  assert.ok(slot);
  const slotBytes = readFileSync(join(root, 'keys', slot));

  // Sparse: the size without the disk space.
  truncateSync(join(root, 'keys', slot), 64 * 1024 * 1024);
  const header = await readHeader(r.backend);
  assert.deepEqual(header.unreadableSlots.map((u) => u.id), [slot]);
  assert.match(header.unreadableSlots[0]!.problem, /^is 67108864 bytes, more than a key slot can be/);
  writeFileSync(join(root, 'keys', slot), slotBytes);

  // A pack past the largest one a tree blob makes, in the data folder.
  const huge = 'ab'.repeat(32);
  mkdirSync(join(root, 'data', 'ab'), { recursive: true });
  writeFileSync(join(root, 'data', 'ab', huge), '');
  truncateSync(join(root, 'data', 'ab', huge), 600 * 1024 * 1024);
  const before = process.memoryUsage().rss;
  const keyless = await checkWithoutKey(r.backend, { readData: true });
  assert.ok(keyless.errors.some((p) => p.object === `data/ab/${huge}` && /more than a pack can be/.test(p.message)), JSON.stringify(keyless.errors));
  const keyed = await checkRepository(await Repository.open(r.backend, { kind: 'key', key: r.key }), { readData: true });
  assert.ok(keyed.errors.some((p) => p.object === `data/ab/${huge}` && /more than a pack can be/.test(p.message)), JSON.stringify(keyed.errors));
  assert.ok(process.memoryUsage().rss - before < 300 * 1024 * 1024, 'the pack was not read into memory');
});

test('a damaged key slot is set aside: the other slots open the repository, check reports it, key remove deletes it', async (t) => {
  const r = await repoWithSource(t, { 'a.txt': 'hello' });
  const root = join(r.dir, 'repo');
  const second = await r.repo.addSlot(RootKey.generate());
  truncateSync(join(root, 'keys', second.id), 50);

  const repo = await Repository.open(r.backend, { kind: 'key', key: r.key });
  assert.deepEqual((await readHeader(r.backend)).unreadableSlots.map((u) => u.id), [second.id]);
  const report = await checkRepository(repo);
  assert.ok(report.errors.some((p) => p.object === `keys/${second.id}` && /key remove/.test(p.message)), JSON.stringify(report.errors));
  const keyless = await checkWithoutKey(r.backend);
  assert.ok(keyless.errors.some((p) => p.object === `keys/${second.id}`), JSON.stringify(keyless.errors));

  // A key that opens no readable slot may be the damaged slot's: the hint says so.
  await assert.rejects(Repository.open(r.backend, { kind: 'key', key: RootKey.generate() }), (e) => {
    assert.ok(e instanceof WrongKeyError);
    assert.ok(e.hint?.includes(`keys/${second.id}`), e.hint);
    return true;
  });

  assert.deepEqual(await repo.removeSlot(second.id.slice(0, 8)), { id: second.id, kind: 'unreadable' });
  assert.deepEqual((await readHeader(r.backend)).unreadableSlots, []);
  assert.equal((await checkRepository(repo)).ok, true);

  // With no readable slot left, the damage itself is the error.
  const [only] = objectNames(root, 'keys');
  truncateSync(join(root, 'keys', only!), 10);
  await assert.rejects(Repository.open(r.backend, { kind: 'key', key: r.key }), rejectsWith('integrity', /no other key slot can be read/));
});

test('the command line shows an unreadable key slot and deletes it on request', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const repo = await initRepo(dir);
  await ok(['key', 'add', ...repoArgs(repo), '--new-key-file', join(dir, 'second.key')]);
  const own = objectsOf(repo.path, 'keys');
  const slots = JSON.parse((await ok(['key', 'list', ...repoArgs(repo), '--json'])).stdout) as Array<{ id: string; created: string }>;
  const second = slots.sort((a, b) => a.created.localeCompare(b.created))[1]!.id;
  truncateSync(join(repo.path, 'keys', second), 30);

  const list = JSON.parse((await ok(['key', 'list', ...repoArgs(repo), '--json'])).stdout) as Array<{ id: string; kind: string; problem?: string }>;
  assert.deepEqual(list.find((s) => s.id === second), { id: second, kind: 'unreadable', problem: 'the key slot is not valid JSON' });
  const inspected = await ok(['inspect', repo.path]);
  assert.match(inspected.stdout, new RegExp(`unreadable\\s+${second.slice(0, 8)} \\(the key slot is not valid JSON\\)`));
  const inspectedJson = JSON.parse((await ok(['inspect', repo.path, '--json'])).stdout) as { unreadableKeySlots: unknown };
  assert.deepEqual(inspectedJson.unreadableKeySlots, [{ id: second, problem: 'the key slot is not valid JSON' }]);

  await ok(['key', 'remove', ...repoArgs(repo), second.slice(0, 8)]);
  assert.deepEqual(objectsOf(repo.path, 'keys').length, own.length - 1);
  await ok(['check', ...repoArgs(repo)]);
});

test('a header that no longer names the format, beside key slots, is damage (exit 4), not "not a repository"', async (t) => {
  const r = await repoWithSource(t, {});
  const config = join(r.dir, 'repo', 'config');
  writeFileSync(config, readFileSync(config, 'utf8').replace('"chatsafe', '"chatsafX'));
  await assert.rejects(readHeader(r.backend), (e) => e instanceof IntegrityError && e.object === 'config' && /does not name the Chatsafe format/.test(e.message));
});

test('a lock that cannot be read stops a run with the way out, `chatsafe unlock`', async (t) => {
  const r = await repoWithSource(t, {});
  writeFileSync(join(r.dir, 'repo', 'locks', '0123456789abcdef0123456789abcdef'), 'not a lock');
  await assert.rejects(
    withLock(r.repo, false, async () => assert.fail('the lock was taken')),
    (e) => e instanceof ChatsafeError && e.kind === 'conflict' && /cannot be read/.test(e.message) && /chatsafe unlock/.test(e.hint ?? ''),
  );
});

test('a tree sealed under an id that is not its hash is refused: no tree can be its own folder', async (t) => {
  const r = await repoWithSource(t, {});
  const self = Buffer.alloc(32, 7);
  await storeCraftedBlobs(r.repo, [{ type: 'tree', id: self, plain: treeBytes([{ type: 'dir', name: 'loop', subtree: self.toString('hex') }]) }]);
  await saveCraftedSnapshot(r.repo, self.toString('hex'));
  const repo = await Repository.open(r.backend, { kind: 'key', key: r.key });
  const target = join(r.dir, 'out');
  await assert.rejects(restore(repo, { snapshot: await repo.findSnapshot('latest'), target }), rejectsWith('integrity', /content does not match its id/));
  assert.ok((await checkRepository(repo)).errors.some((p) => /does not match its id/.test(p.message)));
});

test('trees that expand past what a backup stores are refused before anything is planned or written', async (t) => {
  const r = await repoWithSource(t, {});
  // Each level names the one below twice: 2^25 entries from 25 small trees.
  let below = (await storeCraftedBlobs(r.repo, [{ type: 'tree', plain: treeBytes([]) }]))[0]!;
  for (let level = 0; level < 25; level++) {
    below = (await storeCraftedBlobs(r.repo, [{ type: 'tree', plain: treeBytes([{ type: 'dir', name: 'a', subtree: below }, { type: 'dir', name: 'b', subtree: below }]) }]))[0]!;
  }
  await saveCraftedSnapshot(r.repo, below);
  let repo = await Repository.open(r.backend, { kind: 'key', key: r.key });
  const target = join(r.dir, 'out');
  const expands = new RegExp(`expands to more than ${MAX_SNAPSHOT_ENTRIES.toLocaleString('en-US')} files and folders`);
  await assert.rejects(restore(repo, { snapshot: await repo.findSnapshot('latest'), target }), rejectsWith('integrity', expands));
  assert.equal(existsSync(target), false);
  assert.ok((await checkRepository(repo)).errors.some((p) => p.object.startsWith('snapshots/') && expands.test(p.message)), 'check reports what restore refuses');

  // One folder in each, MAX_TREE_DEPTH + 1 deep.
  const chain: string[] = [(await storeCraftedBlobs(r.repo, [{ type: 'tree', plain: treeBytes([]) }]))[0]!];
  const levels = [];
  for (let level = 0; level <= MAX_TREE_DEPTH; level++) {
    const plain = treeBytes([{ type: 'dir', name: 'd', subtree: chain.at(-1)! }]);
    levels.push(plain);
    chain.push(blobId(repo.keys.blobId, plain).toString('hex'));
  }
  await storeCraftedBlobs(r.repo, levels.map((plain) => ({ type: 'tree' as const, plain })));
  await saveCraftedSnapshot(r.repo, chain.at(-1)!);
  repo = await Repository.open(r.backend, { kind: 'key', key: r.key });
  const deepest = (await repo.listSnapshots()).find((s) => s.snapshot.tree === chain.at(-1))!;
  await assert.rejects(restore(repo, { snapshot: deepest, target }), rejectsWith('integrity', new RegExp(`more than ${MAX_TREE_DEPTH} deep`)));
  assert.equal(existsSync(target), false);
});

test('a restore sets no setuid or setgid bit, whatever the backup recorded', async (t) => {
  const r = await repoWithSource(t, {});
  const data = Buffer.from('#!/bin/sh\necho hi\n');
  const [chunk] = await storeCraftedBlobs(r.repo, [{ type: 'data', plain: data }]);
  const [folder] = await storeCraftedBlobs(r.repo, [{ type: 'tree', plain: treeBytes([{ type: 'file', name: 'tool', size: data.length, content: [chunk!], mode: 0o6755 }]) }]);
  const [root] = await storeCraftedBlobs(r.repo, [{ type: 'tree', plain: treeBytes([{ type: 'dir', name: 'crafted', subtree: folder!, mode: 0o2775 }]) }]);
  await saveCraftedSnapshot(r.repo, root!);
  const repo = await Repository.open(r.backend, { kind: 'key', key: r.key });
  const target = join(r.dir, 'out');
  await restore(repo, { snapshot: await repo.findSnapshot('latest'), target });
  assert.equal(statSync(join(target, 'crafted', 'tool')).mode & 0o7777, 0o755);
  assert.equal(statSync(join(target, 'crafted')).mode & 0o7777, 0o775);
  assert.equal(readFileSync(join(target, 'crafted', 'tool'), 'utf8'), data.toString());
});
