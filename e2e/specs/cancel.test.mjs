// Cancelling a backup in the middle (while storing, and while the chats are
// read): the job stops, the window says so and offers to start again, and
// the repository holds no snapshot.
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

  test('while the chats are read the window counts messages, and cancel stops it there too', async () => {
    const { page, shots } = app;
    const COUNT = 300_000;
    const chat = join(dir, 'WhatsApp Chat with Long Thread');
    mkdirSync(chat);
    const p = (n) => String(n).padStart(2, '0');
    const lines = [];
    for (let i = 0; i < COUNT; i++) {
      const t = new Date(Date.UTC(2019, 0, 1) + i * 61_000);
      lines.push(`${p(t.getUTCDate())}/${p(t.getUTCMonth() + 1)}/${t.getUTCFullYear()}, ${p(t.getUTCHours())}:${p(t.getUTCMinutes())} - ${i % 2 ? 'Ada' : 'Ben'}: line ${i} of a long thread`);
    }
    writeFileSync(join(chat, 'WhatsApp Chat with Long Thread.txt'), `${lines.join('\n')}\n`);
    const repo = join(dir, 'repo-import');
    // A fresh wizard ("Start again" would repeat the cancelled backup).
    await page.reload();
    await backupWithKey(page, shots, { source: chat, repo });
    await page.getByText('Reading the chats…').waitFor({ timeout: 30_000 });
    const counted = page.getByText(/^[1-9][\d,]* of 300,000 messages/);
    await counted.waitFor({ timeout: 30_000 });
    await shots('reading-chats');
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.getByRole('alert').getByText(/Cancelled/).waitFor({ timeout: 30_000 });
    await shots('import-cancelled');
    assert.deepEqual(readdirSync(join(repo, 'snapshots')), [], 'no snapshot after a cancelled import');
    assert.deepEqual(readdirSync(join(repo, 'locks')), [], 'the lock was released');
  });
});
