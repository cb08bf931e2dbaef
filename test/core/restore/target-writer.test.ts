import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { isChatsafeError } from '../../../src/core/errors.js';
import { TargetWriter, type PlannedEntry } from '../../../src/core/restore/target-writer.js';
import { withTempDir } from '../../helpers/cli.js';

const PLAN: PlannedEntry[] = [
  { relPath: 'Media', type: 'dir' },
  { relPath: 'Media/a.jpg', type: 'file' },
  { relPath: 'msgstore.db', type: 'file' },
];

test('prepare makes a missing target folder and accepts an empty one', () =>
  withTempDir('target', async (dir) => {
    await new TargetWriter(join(dir, 'new', 'deep'), false).prepare(PLAN);
    assert.deepEqual(readdirSync(join(dir, 'new', 'deep')), []);
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
    const open = [new TargetWriter(dir, false), new TargetWriter(dir, false)].flatMap((w) => Array.from({ length: 50 }, (_, i) => w.beginFile(`f${i}`)));
    assert.equal(readdirSync(dir).filter((n) => n.startsWith('.chatsafe-restoring-')).length, 100);
    for (const f of open) f.abort();
    assert.deepEqual(readdirSync(dir), []);
  }));
