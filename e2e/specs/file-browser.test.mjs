// The web mode's in-app file browser: a browser page cannot learn paths from
// the system's file dialog, so choosing goes through a listing the server
// gives. Keyboard: Tab between entries, Enter to open or select, Escape closes.
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { FRONT, openApp, SKIP, tempDir } from '../harness.mjs';

describe('in-app file browser', { skip: SKIP || (FRONT === 'electron' ? 'the desktop app uses the native dialogs' : false) }, () => {
  let app;
  let dir;
  before(async () => {
    dir = tempDir();
    mkdirSync(join(dir, 'chats'));
    writeFileSync(join(dir, 'chats', 'WhatsApp Chat with Ada.txt'), '01/03/2024, 08:00 - Ada: hello\n');
    app = await openApp('file-browser');
  });
  after(async () => {
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('walk from the home folder to a file and choose it', async () => {
    const { page, shots } = app;
    await page.getByRole('button', { name: 'Browse…' }).click();
    const dialog = page.getByRole('dialog', { name: 'File or folder to back up' });
    await dialog.waitFor();
    const at = async (path) => dialog.locator('.path').getByText(path, { exact: true }).waitFor();
    await dialog.getByRole('button', { name: '⬆ Parent folder' }).click();
    await at('/');
    // Down from the root to the test's folder, one level at a time.
    let path = '';
    for (const name of [...join(dir, 'chats').split('/').filter(Boolean)]) {
      await dialog.getByRole('button', { name: `Open ${name}`, exact: true }).click();
      path += `/${name}`;
      await at(path);
    }
    const file = dialog.getByRole('button', { name: /WhatsApp Chat with Ada\.txt/ });
    await file.focus();
    await page.keyboard.press('Enter');
    await shots('file-selected');
    await dialog.getByRole('button', { name: /Choose “WhatsApp Chat with Ada\.txt”/ }).click();
    await dialog.waitFor({ state: 'detached' });
    assert.equal(await page.getByLabel('File or folder to back up').inputValue(), join(dir, 'chats', 'WhatsApp Chat with Ada.txt'));
    await page.locator('.detected-summary').waitFor();
    assert.match(await page.locator('.detected-summary').textContent(), /1 chat/);
    await shots('detected');
  });

  test('Escape closes the browser without choosing', async () => {
    const { page } = app;
    await page.getByRole('button', { name: 'Browse…' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('button').first().waitFor();
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
  });
});
