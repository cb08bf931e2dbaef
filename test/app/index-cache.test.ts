import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Router } from '../../src/app/router.js';
import { createSampleExport } from '../../src/app/sample-data.js';
import { SettingsStore } from '../../src/app/settings-store.js';
import { RootKey } from '../../src/core/keys/root-key.js';

describe('the app keeps repositories\' indexes in its cache folder', () => {
  let dir: string;
  let sample: string;
  let router: Router;
  const key = RootKey.generate().toDisplayString();
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'chatsafe-app-cache-'));
    sample = await createSampleExport(500);
    router = new Router({ front: 'web', settings: new SettingsStore(join(dir, 'settings.json')), indexCacheDir: join(dir, 'cache') });
  });
  after(async () => {
    await router.dispose();
    rmSync(dir, { recursive: true, force: true });
    rmSync(dirname(sample), { recursive: true, force: true });
  });

  test('a backup job leaves the index there, and the next job reads it instead of the index files', async () => {
    const repo = join(dir, 'repo');
    const backup = (mode: 'create' | 'existing', jobId: string) =>
      router.handle('backup', { jobId, request: { sources: [sample], address: repo, mode, protection: { kind: 'key', key }, keepLast: 1 } }, () => undefined);
    const first = await backup('create', 'job-cache-1');
    assert.ok(first.ok, first.ok ? '' : first.error.message);
    const files = readdirSync(join(dir, 'cache')).filter((f) => f.endsWith('.index'));
    assert.equal(files.length, 1, 'one sealed index for the one repository');
    // Beside it, the digests of the export's media its catalog read (media-digest-cache.ts).
    assert.equal(readdirSync(join(dir, 'cache')).filter((f) => f.includes('.media-')).length, 1);
    const sealed = readFileSync(join(dir, 'cache', files[0]!));

    // A job whose repository had to read the index files would save the index again (with a fresh
    // nonce, so other bytes); one that loaded the cached copy and stored nothing new leaves it alone.
    const second = await backup('existing', 'job-cache-2');
    assert.ok(second.ok, second.ok ? '' : second.error.message);
    assert.deepEqual(readFileSync(join(dir, 'cache', files[0]!)), sealed);
  });
});
