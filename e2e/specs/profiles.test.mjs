// Storage destinations saved in Settings: refused when malformed, saved with
// their password (never shown again), checked, used by the wizard and by
// Restore by name, and removed after a confirmation. Against a real WebDAV
// server (Apache, started by the project's service script) when Apache is
// installed, else against a folder.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { backupWithKey, openApp, ROOT, SKIP, tempDir } from '../harness.mjs';

const SERVICE = join(ROOT, 'scripts', 'services', 'webdav.sh');
const hasApache = (() => {
  try {
    execFileSync('sh', ['-c', 'command -v htpasswd >/dev/null && { command -v apache2 || test -x /usr/sbin/apache2; } >/dev/null'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe('saved storage destinations', { skip: SKIP }, () => {
  let app;
  let dir;
  let davDir;
  let dav = null;
  let key;
  const NAME = hasApache ? 'Home NAS' : 'Backup disk';

  before(async () => {
    dir = tempDir();
    if (hasApache) {
      // As root, Apache serves as www-data, which must be able to pass through this folder.
      chmodSync(dir, 0o755);
      davDir = join(dir, 'dav');
      const out = execFileSync('bash', [SERVICE, 'start', davDir, String(process.pid)], { encoding: 'utf8', timeout: 120_000 });
      dav = Object.fromEntries(out.split('\n').map((l) => /^([A-Z_]+)=(.*)$/.exec(l.trim())).filter(Boolean).map((m) => [m[1], m[2]]));
    }
    app = await openApp('profiles');
  });
  after(async () => {
    await app?.close();
    if (dav) execFileSync('bash', [SERVICE, 'stop', davDir], { timeout: 60_000 });
    rmSync(dir, { recursive: true, force: true });
  });

  test('Settings: a malformed destination is refused; a good one is saved, checked, and its password never shown', async () => {
    const { page, shots } = app;
    await page.getByRole('button', { name: 'Settings', exact: true }).click();
    await page.getByText('None saved yet.').waitFor();
    await page.getByRole('button', { name: 'Add a destination' }).click();
    const form = page.getByRole('form', { name: 'New destination' });
    await form.getByLabel('Name').fill(NAME);
    if (dav) {
      await form.getByLabel('WebDAV').check();
      await form.getByLabel('WebDAV address').fill(`ftp://${dav.CHATSAFE_WEBDAV_USER}:${dav.CHATSAFE_WEBDAV_PASSWORD}@example.org/chats`);
      await form.getByLabel('User').fill(dav.CHATSAFE_WEBDAV_USER);
      await form.getByLabel('Password').fill(dav.CHATSAFE_WEBDAV_PASSWORD);
    } else {
      await form.getByLabel('S3-compatible storage').check();
      await form.getByLabel('Endpoint (empty for Amazon S3)').fill('ftp://s3.example.org');
      await form.getByLabel('Bucket').fill('chats');
      await form.getByLabel('Access key id').fill('AKIAEXAMPLE');
      await form.getByLabel('Secret access key').fill('not-a-real-secret');
    }
    await form.getByRole('button', { name: 'Save destination' }).click();
    const refusal = await form.getByRole('alert').textContent();
    assert.match(refusal, /(WebDAV address|Endpoint): must be an https:\/\/ \(or http:\/\/\) address\.Correct it and save again\./);
    if (dav) assert.ok(!refusal.includes(dav.CHATSAFE_WEBDAV_PASSWORD), 'the refusal does not repeat the password');
    await shots('refused');
    if (dav) await form.getByLabel('WebDAV address').fill(`${dav.WEBDAV_URL}/family-chats`);
    else {
      await form.getByLabel('A folder').check();
      await form.getByLabel('Folder').fill(join(dir, 'disk', 'chats'));
    }
    await form.getByRole('button', { name: 'Save destination' }).click();
    const item = page.getByTestId('profile');
    await item.getByText(NAME, { exact: true }).waitFor();
    if (dav) {
      assert.match(await item.textContent(), /sign-in saved/);
      assert.ok(!(await page.content()).includes(dav.CHATSAFE_WEBDAV_PASSWORD), 'the password is nowhere in the page');
    }
    await item.getByRole('button', { name: 'Check connection' }).click();
    await item.getByText('Ready: a new repository will be created there.').waitFor({ timeout: 30_000 });
    await shots('saved-and-checked');
    if (dav) {
      await item.getByRole('button', { name: 'Edit' }).click();
      const edit = page.getByRole('form', { name: `Edit ${NAME}` });
      assert.equal(await edit.getByLabel('Password').inputValue(), '', 'the saved password is not sent back to the page');
      assert.match(await edit.getByLabel('Password').getAttribute('placeholder'), /Saved/);
      await shots('edit');
      await edit.getByRole('button', { name: 'Cancel' }).click();
    }
    assert.deepEqual(app.errors ?? [], []);
  });

  test('the wizard backs up to it by name, and Restore opens it by name', async () => {
    const { page, shots } = app;
    key = await backupWithKey(page, shots, { sample: true, destination: NAME });
    await page.getByRole('heading', { name: 'Your chats are backed up' }).waitFor({ timeout: 60_000 });
    assert.equal(await page.getByRole('button', { name: 'Remember this backup on this computer' }).count(), 0, 'a saved destination is remembered already');
    await shots('done');
    if (dav) assert.ok(readdirSync(join(davDir, 'dav', 'family-chats', 'snapshots')).length === 1, 'one snapshot on the server');
    else assert.ok(readdirSync(join(dir, 'disk', 'chats', 'snapshots')).length === 1, 'one snapshot in the folder');
    await page.getByRole('button', { name: 'Restore', exact: true }).click();
    await page.getByRole('button', { name: NAME, exact: true }).click();
    await page.getByLabel('Key (64 digits)').fill(key);
    await page.getByRole('button', { name: 'Unlock' }).click();
    await page.getByText('Unlocked the repository (1 snapshot).').waitFor({ timeout: 30_000 });
    await shots('restore-unlocked');
  });

  test('removing a destination asks first', async () => {
    const { page, shots } = app;
    await page.getByRole('button', { name: 'Settings', exact: true }).click();
    await page.getByTestId('profile').getByRole('button', { name: 'Remove' }).click();
    const confirm = page.getByRole('alertdialog', { name: `Remove ${NAME}?` });
    await shots('remove-confirm');
    await confirm.getByRole('button', { name: 'Keep it' }).click();
    await page.getByTestId('profile').getByText(NAME, { exact: true }).waitFor();
    await page.getByTestId('profile').getByRole('button', { name: 'Remove' }).click();
    await page.getByRole('alertdialog').getByRole('button', { name: 'Remove' }).click();
    await page.getByText('None saved yet.').waitFor();
    await shots('removed');
  });
});
