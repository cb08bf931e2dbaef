/**
 * A backup finds each file's previous node by name in the parent's listing (a bisection over its
 * code-unit order) and reuses the unchanged ones unread, as the very nodes stored before; a file
 * whose times changed is read again, and every file restores byte for byte.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, readFileSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { backup } from '../../../src/core/backup/backup.js';
import { restore } from '../../../src/core/restore/restore.js';
import { repoWithSource } from '../../helpers/repo.js';

// Names whose code-unit order differs from a locale's (capitals first, digits as text, accents and
// symbols last), and enough of them that a bisection takes several steps.
const NAMES = ['B.jpg', 'a.jpg', 'É.jpg', 'e.jpg', '~x', '10.txt', '9.txt', 'Z', 'z', '_u', ...Array.from({ length: 300 }, (_, i) => `IMG-${(i * 7919) % 1000}.jpg`)];

test('unchanged files are found in the parent listing whatever their names and reused unread; a touched or re-moded file is read again', async (t) => {
  const files = Object.fromEntries(NAMES.map((name) => [name, randomBytes(64 + (name.length % 7) * 100)]));
  const { dir, src, repo } = await repoWithSource(t, files);

  const first = await backup(repo, { sources: [src] });
  assert.equal(first.reusedFiles, 0);
  const again = await backup(repo, { sources: [src] });
  assert.equal(again.reusedFiles, NAMES.length, 'every file found by name and reused');
  assert.equal(again.snapshot.tree, first.snapshot.tree, 'the same listing, not a copy');

  const touched = join(src, '9.txt');
  const st = statSync(touched);
  utimesSync(touched, st.atime, new Date(st.mtimeMs + 5000));
  chmodSync(join(src, 'É.jpg'), 0o600);
  const third = await backup(repo, { sources: [src] });
  assert.equal(third.reusedFiles, NAMES.length - 2, 'the touched and the re-moded file are read again');
  assert.notEqual(third.snapshot.tree, first.snapshot.tree);

  const target = join(dir, 'restored');
  await restore(repo, { snapshot: await repo.findSnapshot('latest'), target });
  for (const name of NAMES) assert.ok(readFileSync(join(target, 'src', name)).equals(files[name]!), name);
  assert.equal(statSync(join(target, 'src', 'É.jpg')).mode & 0o777, 0o600);
  // The restored time is the touched file's (times pass through a double of seconds: within a millisecond).
  const restoredMs = statSync(join(target, 'src', '9.txt')).mtimeMs;
  assert.ok(Math.abs(restoredMs - statSync(touched).mtimeMs) < 1, `restored ${restoredMs}, touched ${statSync(touched).mtimeMs}`);
  assert.ok(Math.abs(restoredMs - (st.mtimeMs + 5000)) < 1, 'the touched time, 5 s after the first');
});
