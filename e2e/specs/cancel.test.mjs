// Cancelling a backup in the middle: the job stops, the window says so and
// offers to start again, and the repository holds no snapshot.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { backupWithKey, openApp, SKIP, tempDir } from '../harness.mjs';

describe('cancel', { skip: SKIP }, () => {
  let app;
  let dir;
  before(async () => {
    dir = tempDir();
    // Incompressible data, large enough that the backup is still running when Cancel is pressed.
    mkdirSync(join(dir, 'export'));
    for (let i = 0; i < 12; i++) writeFileSync(join(dir, 'export', `part-${i}.bin`), randomBytes(24 * 1024 * 1024));
    app = await openApp('cancel');
  });
  after(async () => {
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('cancel in the middle of a backup keeps nothing half-written', async () => {
    const { page, shots } = app;
    const repo = join(dir, 'repo');
    await backupWithKey(page, shots, { source: join(dir, 'export'), repo });
    await page.getByText('Encrypting and storing…').waitFor({ timeout: 30_000 });
    await shots('running');
    await page.getByRole('button', { name: 'Cancel' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor({ timeout: 30_000 });
    assert.match(await alert.textContent(), /Cancelled/);
    await page.getByRole('button', { name: 'Start again' }).waitFor();
    await shots('cancelled');
    assert.deepEqual(readdirSync(join(repo, 'snapshots')), [], 'no snapshot after a cancelled backup');
    assert.deepEqual(readdirSync(join(repo, 'locks')), [], 'the lock was released');
  });
});
