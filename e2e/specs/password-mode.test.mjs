// First-run backup in password mode against a real key vault (SoftHSM2-backed,
// started by the vault tests' own service scripts), then a wrong password
// (the attempts left are shown) and a restore with the right one.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openApp, ROOT, SKIP as FRONT_SKIP, tempDir } from '../harness.mjs';

const servicesJs = join(ROOT, 'dist', 'test', 'vault-server', 'services.js');
const { Services, SKIP_HSM } = existsSync(servicesJs) ? await import(servicesJs) : { SKIP_HSM: 'the vault test services are not built (npm run build)' };
const PASSWORD = 'orchard-lantern-velvet-91';

describe('password mode', { skip: FRONT_SKIP || SKIP_HSM }, () => {
  let app;
  let dir;
  let svc;
  let vault;
  before(async () => {
    dir = tempDir();
    svc = new Services();
    vault = await svc.startNode(join(svc.dir, 'vault.db'), ['--rate-ip', '0', '--rate-account', '0']);
    app = await openApp('password-mode');
  });
  after(async () => {
    await app?.close();
    await svc?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('wizard with a password keeps the key in the vault', async () => {
    const { page, shots } = app;
    await page.getByRole('button', { name: 'Try it with sample data' }).click();
    await page.locator('.detected-summary').waitFor();
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByLabel('A password, with the key kept in a key vault').check();
    await page.getByLabel('Password', { exact: true }).fill('password1');
    await page.getByText(/common|guess|weak/i).first().waitFor();
    await shots('weak-password');
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByLabel('Password again').fill(PASSWORD);
    await page.getByLabel('Key vault address').fill(vault.url);
    await page.getByRole('button', { name: 'Check connection' }).click();
    await page.getByText('The key vault answers.').waitFor();
    await shots('protection-password');
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByLabel('Backup location').fill(join(dir, 'repo'));
    await page.getByRole('button', { name: 'Check', exact: true }).click();
    await page.getByRole('button', { name: 'Back up now' }).click();
    await page.getByRole('heading', { name: /Your chats are backed up|Backing up/ }).waitFor();
    await page.getByRole('heading', { name: 'Your chats are backed up' }).or(page.getByRole('alert')).waitFor({ timeout: 90_000 });
    await shots('finished');
    assert.equal(await page.getByRole('alert').count(), 0, await page.locator('main').textContent());
    await shots('done');
  });

  test('a wrong password shows the attempts left; the right one restores', async () => {
    const { page, shots } = app;
    await page.getByRole('button', { name: 'Restore', exact: true }).click();
    await page.getByLabel(/^Backup \(a repository/).fill(join(dir, 'repo'));
    await page.getByLabel('the password').check();
    await page.getByLabel('Password', { exact: true }).fill('not-the-password-at-all');
    await page.getByRole('button', { name: 'Unlock' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor({ timeout: 30_000 });
    assert.match(await alert.textContent(), /9 attempts left/);
    await shots('wrong-password');
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Unlock' }).click();
    await page.getByText(/Unlocked the repository \(1 snapshot\)/).waitFor({ timeout: 30_000 });
    const target = join(dir, 'restored');
    await page.getByLabel('Restore into (an empty or new folder)').fill(target);
    await page.getByRole('button', { name: 'Restore', exact: true }).last().click();
    await page.getByTestId('restore-result').waitFor({ timeout: 60_000 });
    await shots('restored');
    assert.match(readFileSync(join(target, 'WhatsApp Chat with Garden Club', 'WhatsApp Chat with Garden Club.txt'), 'utf8'), /lemon tree/);
  });
});
