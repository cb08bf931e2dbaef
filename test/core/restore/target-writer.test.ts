import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ChatsafeError, isChatsafeError } from '../../../src/core/errors.js';
import { nsToSeconds, targetError, TargetWriter, type PlannedEntry } from '../../../src/core/restore/target-writer.js';
import { writeFullySync } from '../../../src/core/storage/write-fully.js';
import { withTempDir } from '../../helpers/cli.js';

const PLAN: PlannedEntry[] = [
  { relPath: 'Media', type: 'dir' },
  { relPath: 'Media/a.jpg', type: 'file' },
  { relPath: 'msgstore.db', type: 'file' },
];

test('prepare makes a missing target folder and accepts an empty one', () =>
  withTempDir('target', async (dir) => {
    const w = new TargetWriter(join(dir, 'new', 'deep'), false);
    await w.prepare(PLAN);
    await w.finish();
    assert.deepEqual(readdirSync(join(dir, 'new', 'deep')), [], 'nothing restored, nothing left');
    mkdirSync(join(dir, 'empty'));
    await new TargetWriter(join(dir, 'empty'), false).prepare(PLAN);
  }));

test('prepare still finds every conflict in a folder that is not empty', () =>
  withTempDir('target', async (dir) => {
    mkdirSync(join(dir, 'Media'));
    writeFileSync(join(dir, 'Media', 'a.jpg'), 'x');
    writeFileSync(join(dir, 'unrelated.txt'), 'x');
    await assert.rejects(new TargetWriter(dir, false).prepare(PLAN), (e: unknown) => isChatsafeError(e) && e.kind === 'conflict' && e.message.includes('a.jpg'));
    await new TargetWriter(dir, true).prepare(PLAN);
    // Only unrelated entries: nothing in the way.
    await new TargetWriter(join(dir, 'Media'), false).prepare([{ relPath: 'b.jpg', type: 'file' }]);
    // A folder where the backup has a file is refused even with --overwrite.
    mkdirSync(join(dir, 'msgstore.db'));
    await assert.rejects(new TargetWriter(dir, true).prepare(PLAN), (e: unknown) => isChatsafeError(e) && e.kind === 'conflict' && e.message.includes('is a folder'));
  }));

test('temporary names are unique within a restore and across restores into one folder', () =>
  withTempDir('target', async (dir) => {
    // Open at once, none committed: a clash would fail the O_EXCL create.
    const open = [new TargetWriter(dir, false), new TargetWriter(dir, false)].flatMap((w) => Array.from({ length: 50 }, (_, i) => w.beginFile(`f${i}`, 1)));
    assert.equal(readdirSync(dir).filter((n) => n.startsWith('.chatsafe-restoring-')).length, 100);
    for (const f of open) await f.abort();
    assert.deepEqual(readdirSync(dir), []);
  }));

test('into an empty target, files are written out of sight and moved into place at the end', () =>
  withTempDir('target', async (dir) => {
    const w = new TargetWriter(dir, false);
    await w.prepare(PLAN);
    await w.mkdir('Media', 0o750, '1700000000000000000');
    for (const rel of ['Media/a.jpg', 'msgstore.db']) {
      const f = w.beginFile(rel, 8);
      await f.write(Buffer.from(rel));
      await f.commit(0o640, '1700000000000000000');
    }
    const hidden = readdirSync(dir);
    assert.equal(hidden.length, 1, 'only the hidden folder is in the target while the restore runs');
    assert.match(hidden[0]!, /^\.chatsafe-restoring-/);
    await w.finish();
    assert.deepEqual(readdirSync(dir).sort(), ['Media', 'msgstore.db']);
    assert.equal(readFileSync(join(dir, 'Media', 'a.jpg'), 'utf8'), 'Media/a.jpg');
    const media = statSync(join(dir, 'Media'));
    assert.equal(media.mode & 0o777, 0o750);
    assert.equal(media.mtimeMs, 1700000000000, 'the folder keeps its time after the move');
  }));

test('after a failure, the files completed so far are moved into place and the one being written is not', () =>
  withTempDir('target', async (dir) => {
    const w = new TargetWriter(dir, false);
    await w.prepare(PLAN);
    await w.mkdir('Media', 0o755, '1700000000000000000');
    const done = w.beginFile('msgstore.db', 8);
    await done.write(Buffer.from('complete'));
    await done.commit(0o600, '1700000000000000000');
    const partial = w.beginFile('Media/a.jpg', 8);
    await partial.write(Buffer.from('half'));
    await partial.abort();
    await w.salvage();
    assert.deepEqual(readdirSync(dir).sort(), ['Media', 'msgstore.db']);
    assert.deepEqual(readdirSync(join(dir, 'Media')), []);
    assert.equal(readFileSync(join(dir, 'msgstore.db'), 'utf8'), 'complete');
  }));

test('after a failure or a cancel, the folders moved into place have their modes and times, as after a whole restore', () =>
  withTempDir('target', async (dir) => {
    for (const target of [join(dir, 'empty'), join(dir, 'holding')]) {
      mkdirSync(target);
      if (target.endsWith('holding')) writeFileSync(join(target, 'unrelated.txt'), 'x');
      const w = new TargetWriter(target, false);
      await w.prepare(PLAN);
      await w.mkdir('Media', 0o755, '1700000000000000000');
      await w.mkdir('Media/read-only', 0o555, '1700000000000000000');
      const done = w.beginFile('Media/a.jpg', 8);
      await done.write(Buffer.from('complete'));
      await done.commit(0o644, '1700000000000000000');
      await w.salvage();
      const media = statSync(join(target, 'Media'));
      assert.equal(media.mode & 0o777, 0o755, `${target}: the recorded mode, not the 0700 it was made with`);
      assert.equal(media.mtimeMs, 1700000000000, `${target}: the recorded time, not the restore's`);
      const readOnly = statSync(join(target, 'Media', 'read-only'));
      assert.equal(readOnly.mode & 0o777, 0o755, `${target}: a read-only folder stays writable by its owner until a restore run again completes`);
      assert.equal(readOnly.mtimeMs, 1700000000000);
    }
  }));

test('what appeared in the target during the restore is never replaced; the restored copy stays in the hidden folder', () =>
  withTempDir('target', async (dir) => {
    const w = new TargetWriter(dir, false);
    await w.prepare(PLAN);
    const f = w.beginFile('msgstore.db', 8);
    await f.write(Buffer.from('restored'));
    await f.commit(0o600, '1700000000000000000');
    writeFileSync(join(dir, 'msgstore.db'), 'theirs');
    await assert.rejects(w.finish(), (e: unknown) => isChatsafeError(e) && e.kind === 'conflict' && e.message.includes('.chatsafe-restoring-'));
    assert.equal(readFileSync(join(dir, 'msgstore.db'), 'utf8'), 'theirs');
    const hidden = readdirSync(dir).find((n) => n.startsWith('.chatsafe-restoring-'))!;
    assert.equal(readFileSync(join(dir, hidden, 'msgstore.db'), 'utf8'), 'restored');
  }));

test('a restored time lands in the microsecond it was backed up in, also right after a whole millisecond', () =>
  withTempDir('target', async (dir) => {
    const file = join(dir, 'f');
    writeFileSync(file, 'x');
    // Times of today, and the ones a double rounds down: a whole millisecond and a few nanoseconds past one.
    const times = ['1796530753823000000', '1796530753823000123', '1796530753822999999', '1700000000000000001', '1700000000123456789', '0'];
    for (const ns of times) {
      const t = nsToSeconds(ns);
      utimesSync(file, t, t);
      const got = statSync(file, { bigint: true }).mtimeNs;
      assert.equal(got / 1000n, BigInt(ns) / 1000n, `${ns}: restored as ${got}`);
    }
  }));

test("the target's file-system failures become errors that say what to do; anything else passes unchanged", () => {
  const root = '/restore/here';
  const sysError = (code: string, syscall: string, path?: string) => Object.assign(new Error(`${code}: ${syscall}`), { code, syscall, ...(path ? { path } : {}) });
  const full = targetError(sysError('ENOSPC', 'write'), root);
  assert.ok(isChatsafeError(full) && full.kind === 'io', 'a write the disk refused');
  assert.match(full.message, /^Writing the restored files into \/restore\/here failed: ENOSPC\.$/);
  assert.match(full.hint ?? '', /disk is full/);
  let noProgress: unknown = null;
  try {
    writeFullySync(-1, Buffer.alloc(8), 8, 0, () => 0);
  } catch (e) {
    noProgress = e;
  }
  const stalled = targetError(noProgress, root);
  assert.ok(isChatsafeError(stalled) && /disk is full/.test(stalled.hint ?? ''), 'a write that made no progress, as the disk refusing it');
  const denied = targetError(sysError('EACCES', 'open', '/restore/here/.chatsafe-restoring-1/a.jpg'), root);
  assert.ok(isChatsafeError(denied) && /may write to that folder/.test(denied.hint ?? ''), 'a file the target would not let be made');
  // Not the target's: a pack that could not be read, a path elsewhere, a programming error, our own errors.
  for (const other of [sysError('EIO', 'read'), sysError('EACCES', 'open', '/restore/here-else/x'), Object.assign(new TypeError('bad'), { code: 'ERR_INVALID_ARG_TYPE' }), new ChatsafeError('integrity', 'tampered')]) {
    assert.equal(targetError(other, root), other);
  }
});
