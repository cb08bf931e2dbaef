/**
 * A restore run again into a target that holds files already: those with the snapshot's bytes are
 * kept (and given its modes and times), anything else in the way is still refused. And a restore
 * never writes into the repository it reads.
 */
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { backup } from '../../../src/core/backup/backup.js';
import { isChatsafeError } from '../../../src/core/errors.js';
import { Repository } from '../../../src/core/repo/repository.js';
import { restore } from '../../../src/core/restore/restore.js';
import { LocalFolderBackend } from '../../../src/core/storage/local-folder.js';
import { repoWithSource } from '../../helpers/repo.js';
import { pseudoRandomBytes } from '../../helpers/tmp.js';

const MEDIA = pseudoRandomBytes(700_000, 7);
const CHAT = 'Ana: hola\n'.repeat(5000);
const TIME = 1600000000;

async function restoredOnce(t: import('node:test').TestContext) {
  const r = await repoWithSource(t, { 'media.jpg': MEDIA, 'chat.txt': CHAT, empty: '' });
  chmodSync(join(r.src, 'media.jpg'), 0o640);
  for (const name of ['media.jpg', 'chat.txt', 'empty']) utimesSync(join(r.src, name), TIME, TIME);
  await backup(r.repo, { sources: [r.src] });
  const snapshot = await r.repo.findSnapshot('latest');
  const target = join(r.dir, 'out');
  await restore(r.repo, { snapshot, target });
  return { ...r, snapshot, target, restored: join(target, 'src') };
}

test('run again over a complete restore: every file is kept, and a changed mode or time is set back', async (t) => {
  const { repo, snapshot, target, restored } = await restoredOnce(t);
  const media = join(restored, 'media.jpg');
  chmodSync(media, 0o600);
  utimesSync(media, TIME + 99, TIME + 99);
  const again = await restore(repo, { snapshot, target });
  assert.equal(again.files, 0, 'nothing written');
  assert.equal(again.kept, 3);
  assert.equal(statSync(media).mode & 0o777, 0o640);
  assert.equal(statSync(media).mtimeMs, TIME * 1000);
  assert.deepEqual(readFileSync(media), MEDIA);
  assert.deepEqual(readdirSync(restored).sort(), ['chat.txt', 'empty', 'media.jpg'], 'no temporary file left');
});

test('a file of the same size whose bytes differ is still refused without --overwrite, and nothing is touched', async (t) => {
  const { repo, snapshot, target, restored } = await restoredOnce(t);
  const chat = join(restored, 'chat.txt');
  writeFileSync(chat, CHAT.replace('Ana', 'Eva'));
  utimesSync(chat, TIME, TIME);
  const media = join(restored, 'media.jpg');
  utimesSync(media, TIME + 99, TIME + 99);
  await assert.rejects(restore(repo, { snapshot, target }), (e: unknown) => isChatsafeError(e) && e.kind === 'conflict' && e.message.includes('chat.txt') && !e.message.includes('media.jpg'));
  assert.equal(readFileSync(chat, 'utf8'), CHAT.replace('Ana', 'Eva'), 'the changed file is the user’s, kept as it is');
  assert.equal(statSync(media).mtimeMs, (TIME + 99) * 1000, 'nothing was changed before the refusal');

  const over = await restore(repo, { snapshot, target, overwrite: true });
  assert.equal(over.files, 1, 'only the file that differs is written');
  assert.equal(over.kept, 2);
  assert.equal(readFileSync(chat, 'utf8'), CHAT);
});

test('a file cut short or grown by a byte is not taken for the snapshot’s', async (t) => {
  const { repo, snapshot, target, restored } = await restoredOnce(t);
  const media = join(restored, 'media.jpg');
  writeFileSync(media, MEDIA.subarray(0, MEDIA.length - 1));
  await assert.rejects(restore(repo, { snapshot, target }), (e: unknown) => isChatsafeError(e) && e.kind === 'conflict' && e.message.includes('media.jpg'));
  writeFileSync(media, Buffer.concat([MEDIA, Buffer.from([0])]));
  await assert.rejects(restore(repo, { snapshot, target }), (e: unknown) => isChatsafeError(e) && e.kind === 'conflict' && e.message.includes('media.jpg'));
});

test('a target that is the repository, or inside it, is refused before anything is written, also through a link', async (t) => {
  const { dir, key, repo, snapshot } = await restoredOnce(t);
  const repoPath = join(dir, 'repo');
  const link = join(dir, 'repo-link');
  symlinkSync(repoPath, link);
  const viaLink = await Repository.open(new LocalFolderBackend(link), { kind: 'key', key });
  const cases: Array<[Repository, string]> = [
    [repo, repoPath],
    [repo, join(repoPath, 'restored')],
    [repo, join(repoPath, 'data', 'new', 'deep')],
    [repo, join(link, 'restored')],
    [viaLink, join(repoPath, 'restored')],
  ];
  const before = readdirSync(repoPath).sort();
  for (const [r, target] of cases) {
    await assert.rejects(restore(r, { snapshot, target, overwrite: true }), (e: unknown) => isChatsafeError(e) && e.kind === 'usage' && /repository/.test(e.message), target);
  }
  assert.deepEqual(readdirSync(repoPath).sort(), before, 'nothing was added to the repository');
  assert.equal(existsSync(join(repoPath, 'data', 'new')), false);
});

test('a repository inside the target is refused when the snapshot has entries at or inside it; beside them it is fine', async (t) => {
  const { dir, key, src } = await restoredOnce(t);
  // A repository at host/src: the snapshot's folder `src` would be restored into it.
  const host = join(dir, 'host');
  mkdirSync(host);
  const inner = await Repository.init(new LocalFolderBackend(join(host, 'src')), key);
  await backup(inner, { sources: [src] });
  const snapshot = await inner.findSnapshot('latest');
  for (const overwrite of [false, true]) {
    await assert.rejects(restore(inner, { snapshot, target: host, overwrite }), (e: unknown) => isChatsafeError(e) && e.kind === 'usage' && e.message.includes('src'));
  }
  assert.equal(existsSync(join(host, 'src', 'chat.txt')), false, 'nothing was restored into the repository');
  // The same repository beside the restored folder: host2/repo, the snapshot's `src` next to it.
  const host2 = join(dir, 'host2');
  const beside = await Repository.init(new LocalFolderBackend(join(host2, 'repo')), key);
  await backup(beside, { sources: [src] });
  await restore(beside, { snapshot: await beside.findSnapshot('latest'), target: host2, overwrite: true });
  assert.equal(readFileSync(join(host2, 'src', 'chat.txt'), 'utf8'), CHAT);
});
