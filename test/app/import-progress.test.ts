import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Progress } from '../../src/app/contract.js';
import { Router } from '../../src/app/router.js';
import { createSampleExport } from '../../src/app/sample-data.js';
import { SettingsStore } from '../../src/app/settings-store.js';
import { RootKey } from '../../src/core/keys/root-key.js';

const MESSAGES = 60_000;

describe('backup job: progress while the chat catalog is built', () => {
  let dir: string;
  let sample: string;
  let router: Router;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'chatsafe-import-progress-'));
    sample = await createSampleExport(MESSAGES);
    router = new Router({ front: 'web', settings: new SettingsStore(join(dir, 'settings.json')) });
  });
  after(async () => {
    await router.dispose();
    rmSync(dir, { recursive: true, force: true });
    rmSync(dirname(sample), { recursive: true, force: true });
  });

  const backupRequest = (address: string) => ({
    sources: [sample],
    address,
    mode: 'create' as const,
    protection: { kind: 'key' as const, key: RootKey.generate().toDisplayString() },
    keepLast: 1,
  });

  test('the files are stored while the catalog is built; then the wait shows importing events with growing counts', async () => {
    const events: Progress[] = [];
    const r = await router.handle('backup', { jobId: 'job-progress-1', request: backupRequest(join(dir, 'repo')) }, (_id, p) => events.push(p));
    assert.ok(r.ok, r.ok ? '' : r.error.message);
    // The export's files are a few MB and its catalog 60,000 messages: the backup waits for the import.
    const reading = events.filter((p) => p.phase === 'importing' && p.importStep?.step === 'reading');
    assert.ok(reading.length >= 1, `reading events: ${reading.length}`);
    const counts = reading.map((p) => p.importStep!.done);
    for (let i = 1; i < counts.length; i++) assert.ok(counts[i]! >= counts[i - 1]!, `counts grow: ${counts.join(', ')}`);
    // The export's own count (from detection or the parser) is the total, so the UI can show an ETA.
    assert.ok(reading.every((p) => p.importStep!.total === MESSAGES), 'total known');
    // One stretch of each phase, files first: the display never flips back and forth.
    const phases = events.map((p) => p.phase).filter((p, i, all) => i === 0 || all[i - 1] !== p);
    assert.equal(phases.filter((p) => p === 'importing').length, 1, phases.join(' '));
    assert.ok(phases.indexOf('backing-up') < phases.indexOf('importing'), phases.join(' '));
    assert.equal((r.value as { messages: number }).messages, MESSAGES);
  });

  test('cancel during the import phase stops the job and writes no snapshot', async () => {
    const repo = join(dir, 'repo-cancelled');
    const jobId = 'job-progress-2';
    let asked = false;
    const r = await router.handle('backup', { jobId, request: backupRequest(repo) }, (_id, p) => {
      if (!asked && p.phase === 'importing' && (p.importStep?.done ?? 0) > 0) {
        asked = true;
        void router.handle('job.cancel', { jobId });
      }
    });
    assert.ok(asked, 'an importing event with a count arrived');
    assert.equal(r.ok ? 'finished' : r.error.kind, 'cancelled');
    const snapshots = readdirSync(join(repo, 'snapshots'), { withFileTypes: true }).filter((e) => e.isFile());
    assert.equal(snapshots.length, 0);
  });

  test('quitting the app during the import lets the job remove its temporary catalog', async () => {
    // The job worker takes its environment when it starts: its temp files go to a folder of this test's own.
    const tmp = join(dir, 'job-tmp');
    mkdirSync(tmp);
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = tmp;
    const quitting = new Router({ front: 'web', settings: new SettingsStore(join(dir, 'settings-quit.json')) });
    try {
      let reading!: () => void;
      const started = new Promise<void>((r) => (reading = r));
      const job = quitting.handle('backup', { jobId: 'job-progress-3', request: backupRequest(join(dir, 'repo-quit')) }, (_id, p) => {
        if (p.phase === 'importing' && (p.importStep?.done ?? 0) > 0) reading();
      });
      await started;
      assert.ok(readdirSync(tmp).some((n) => n.startsWith('chatsafe-import-')), 'the import has its temp folder');
      await quitting.dispose();
      assert.equal((await job).ok, false);
      assert.deepEqual(readdirSync(tmp), [], 'nothing left behind');
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
    }
  });
});
