/**
 * Ctrl-C during a backup: the CLI stops promptly with "Cancelled", adds no
 * snapshot, and leaves a repository the next backup and a full check accept.
 * A cancelled restore keeps only whole files, and running it again finishes it.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readdirSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { backup } from '../../src/core/backup/backup.js';
import { isChatsafeError } from '../../src/core/errors.js';
import { Repository } from '../../src/core/repo/repository.js';
import { restore } from '../../src/core/restore/restore.js';
import type { ByteRange, ObjectKind, StorageBackend } from '../../src/core/storage/backend.js';
import { collect, describeRun, makeTempDir, spawnCli } from '../helpers/cli.js';
import { repoWithSource } from '../helpers/repo.js';
import { pseudoRandomBytes } from '../helpers/tmp.js';
import { assertOnlyCompleteFiles, assertSameTree, backupOf, chatLikeSpec, digestTree, hasLock, initRepo, ok, repoArgs, snapshotIds, underName, waitFor, writeTree } from './scenario.js';

const tmp = makeTempDir('cancel');

/** The pack files of a folder repository (data/XX/NAME). */
function packFiles(repoPath: string): string[] {
  return (readdirSync(join(repoPath, 'data'), { recursive: true }) as string[]).filter((n) => /[0-9a-f]{64}$/.test(n));
}
after(() => tmp.remove());

test('SIGINT during a backup: exits promptly with "Cancelled", no snapshot added, the next backup and check --read-data pass', async () => {
  const repo = await initRepo(tmp.path);
  const small = join(tmp.path, 'small');
  writeTree(small, { text: { 'a.txt': 'first\n' } }, 'small');
  const before = await backupOf(repo, [small]);

  const src = join(tmp.path, 'src');
  writeTree(src, chatLikeSpec(120_000_000), 'cancel');
  const packsBefore = packFiles(repo.path).length;
  const child = spawnCli(['backup', ...repoArgs(repo), '--keep-last', '5', src]);
  const done = collect(child);
  await waitFor(() => hasLock(repo.path), 30_000, 'the backup to take its lock');
  // Mid-backup, whatever the machine's speed: its first pack is written and about 110 MB are still to go.
  await waitFor(() => packFiles(repo.path).length > packsBefore, 30_000, 'the backup to write its first pack');
  const sentAt = Date.now();
  child.kill('SIGINT');
  const run = await done;
  const took = Date.now() - sentAt;

  assert.notEqual(run.code, 0, `a cancelled backup must not report success: ${describeRun(run)}`);
  assert.equal(run.signal, null, 'it exits by itself, not killed by the signal');
  assert.match(run.stderr, /Cancelled/, describeRun(run));
  assert.equal(run.stdout, '', 'no snapshot id was printed');
  assert.ok(took < 10_000, `it stopped within 10 s of Ctrl-C (took ${took} ms)`);
  assert.deepEqual(await snapshotIds(repo), [before], 'no snapshot was added');
  assert.equal(hasLock(repo.path), false, 'the lock was released');

  const after = await backupOf(repo, [src], ['--keep-last', '5']);
  assert.deepEqual((await snapshotIds(repo)).sort(), [before, after].sort());
  const check = await ok(['check', ...repoArgs(repo), '--read-data']);
  assert.match(check.stdout, /No problems/);
});

/**
 * A folder repository whose pack reads call `onRead` first: the test cancels from there, once a
 * file is complete, so the restore is stopped midway whatever the machine's speed.
 */
class WatchedReads implements StorageBackend {
  constructor(
    private readonly inner: StorageBackend,
    private readonly onRead: () => void,
  ) {}
  get location(): string {
    return this.inner.location;
  }
  create = () => this.inner.create();
  stat = (kind: ObjectKind, name: string) => this.inner.stat(kind, name);
  list = (kind: ObjectKind) => this.inner.list(kind);
  read = (kind: ObjectKind, name: string, range?: ByteRange, into?: Buffer) => {
    if (kind === 'data') this.onRead();
    return this.inner.read(kind, name, range, into);
  };
  write = (kind: ObjectKind, name: string, data: Buffer | readonly Buffer[]) => this.inner.write(kind, name, data);
  remove = (kind: ObjectKind, name: string) => this.inner.remove(kind, name);
  cleanup = () => this.inner.cleanup();
  close = () => this.inner.close();
}

test("a cancelled restore keeps whole files, its folders with their modes and times; the same restore run again completes", async (t) => {
  // Three files a lane, each spanning two of its batches: the reads of a lane's last file come after its first file is complete.
  const files = Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`f${i}.bin`, pseudoRandomBytes(6_000_000, i + 1)]));
  const { dir, src, key, backend, repo } = await repoWithSource(t, files);
  const TIME = 1600000000;
  for (const name of Object.keys(files)) utimesSync(join(src, name), TIME, TIME);
  chmodSync(src, 0o750);
  utimesSync(src, TIME, TIME);
  await backup(repo, { sources: [src] });
  const expected = underName(digestTree(src), 'src');
  const target = join(dir, 'out');

  const cancel = new AbortController();
  // A file is complete once it has its recorded time (it is created with the time of the restore).
  const complete = () => existsSync(target) && (readdirSync(target, { recursive: true }) as string[]).some((n) => n.endsWith('.bin') && statSync(join(target, n)).mtimeMs === TIME * 1000);
  const watched = await Repository.open(
    new WatchedReads(backend, () => {
      if (!cancel.signal.aborted && complete()) cancel.abort();
    }),
    { kind: 'key', key },
  );
  const snapshot = await watched.findSnapshot('latest');
  await assert.rejects(restore(watched, { snapshot, target, signal: cancel.signal }), (e: unknown) => isChatsafeError(e) && e.kind === 'cancelled' && /run the same restore again/i.test(e.hint ?? ''));
  assert.ok(cancel.signal.aborted, 'the restore was cancelled midway, not finished');

  const left = digestTree(target);
  const kept = assertOnlyCompleteFiles(left, expected, 'after the cancel');
  assert.ok(kept >= 1 && kept < 6, `some files, not all, were complete (${kept})`);
  const folder = statSync(join(target, 'src'));
  assert.equal(folder.mode & 0o777, 0o750, 'the folder has its recorded mode, not 0700');
  assert.equal(folder.mtimeMs, TIME * 1000, 'the folder has its recorded time');

  const again = await restore(repo, { snapshot: await repo.findSnapshot('latest'), target });
  assert.equal(again.kept, kept, 'the files the cancelled run completed are kept');
  assert.equal(again.files, 6 - kept);
  assertSameTree(digestTree(target), expected, 'the restore run again');
  for (const name of Object.keys(files)) assert.equal(statSync(join(target, 'src', name)).mtimeMs, TIME * 1000);
  assert.equal(statSync(join(target, 'src')).mtimeMs, TIME * 1000);
});
