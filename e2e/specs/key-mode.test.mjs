// First-run backup in key mode with the sample data, then restore, a wrong
// key (one digit off, and wholly wrong), and inspect with search, all in one
// window against the real core.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { backupWithKey, openApp, SKIP, tempDir } from '../harness.mjs';

describe('key mode', { skip: SKIP }, () => {
  let app;
  let dir;
  let key;
  const repo = () => join(dir, 'repo');

  before(async () => {
    dir = tempDir();
    app = await openApp('key-mode');
  });
  after(async () => {
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('first-run wizard backs up the sample data', async () => {
    const { page, shots } = app;
    key = await backupWithKey(page, shots, { sample: true, repo: repo() });
    await page.getByRole('heading', { name: 'Your chats are backed up' }).waitFor({ timeout: 60_000 });
    const summary = await page.getByTestId('done-summary').textContent();
    assert.match(summary, /2 files/);
    assert.match(summary, /1 chat, 120 messages/);
    await page.getByRole('button', { name: 'Remember this backup on this computer' }).click();
    await page.getByRole('button', { name: 'Remember this backup on this computer' }).waitFor({ state: 'detached' });
    await shots('done');
    assert.ok(readdirSync(join(repo(), 'snapshots')).length === 1, 'one snapshot written');
  });

  test('a key one digit off is refused with the digit to check', async () => {
    const { page, shots } = app;
    await page.getByRole('button', { name: 'Restore', exact: true }).click();
    // The remembered backup fills in its place.
    await page.getByRole('button', { name: 'repo', exact: true }).click();
    assert.equal(await page.getByLabel(/^Backup \(a repository/).inputValue(), repo());
    const digits = key.replace(/\s/g, '');
    const wrong = digits.slice(0, 21) + (digits[21] === '0' ? '1' : '0') + digits.slice(22);
    await page.getByLabel('Key (64 digits)').fill(wrong);
    await page.getByRole('button', { name: 'Unlock' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    assert.match(await alert.textContent(), /group 6, digit 2: you typed/i);
    await shots('restore-typo');
    await page.getByLabel('Key (64 digits)').fill('0'.repeat(64));
    await page.getByRole('button', { name: 'Unlock' }).click();
    await page.getByText('That key does not open this repository.').waitFor();
    await shots('restore-wrong-key');
  });

  test('restore brings back the files byte for byte', async () => {
    const { page, shots } = app;
    await page.getByLabel('Key (64 digits)').fill(key);
    await page.getByRole('button', { name: 'Unlock' }).click();
    await page.getByText(/Unlocked the repository \(1 snapshot\)/).waitFor();
    const target = join(dir, 'restored');
    await page.getByLabel('Restore into (an empty or new folder)').fill(target);
    await page.getByRole('button', { name: 'Restore', exact: true }).last().click();
    const result = page.getByTestId('restore-result');
    await result.waitFor({ timeout: 60_000 });
    assert.match(await result.textContent(), /Restored 2 files/);
    await shots('restored');
    const chat = join(target, 'WhatsApp Chat with Garden Club', 'WhatsApp Chat with Garden Club.txt');
    assert.match(readFileSync(chat, 'utf8'), /Remember to water the lemon tree on Sunday/);
  });

  test('backing up again stores only what changed and keeps the newest snapshot', async () => {
    const { page, shots } = app;
    const before = readdirSync(join(repo(), 'snapshots'));
    const source = join(dir, 'restored', 'WhatsApp Chat with Garden Club');
    writeFileSync(join(source, 'notes.txt'), 'a new file since the first backup\n');
    await page.getByLabel('File or folder to back up again').fill(source);
    await page.getByRole('button', { name: 'Back up now' }).click();
    const result = page.getByTestId('again-result');
    await result.waitFor({ timeout: 60_000 });
    assert.match(await result.textContent(), /Backed up 3 files; .* Removed 1 older backup\(s\)\./);
    await shots('backed-up-again');
    const after = readdirSync(join(repo(), 'snapshots'));
    assert.equal(after.length, 1, 'keep-last 1: only the new snapshot remains');
    assert.notDeepEqual(after, before);
  });

  test('inspect: header and check without key, then chats and search with it', async () => {
    const { page, shots } = app;
    await page.getByRole('button', { name: 'Inspect', exact: true }).click();
    await page.getByLabel(/^Backup \(a repository/).fill(repo());
    await page.getByRole('button', { name: 'Read header' }).click();
    await page.getByText('Format version').waitFor();
    await page.getByRole('button', { name: 'Check integrity' }).click();
    await page.getByText('No problems found (without the key).').waitFor({ timeout: 60_000 });
    await shots('inspect-no-key');
    await page.getByText('Open with the key the user gave you').click();
    await page.getByLabel('Key (64 digits)').fill(key);
    await page.getByRole('button', { name: 'Unlock' }).click();
    await page.getByRole('button', { name: 'Browse chats' }).click();
    await page.getByText('1 chat, 120 messages, 15 media files.').waitFor();
    await page.getByTestId('messages').getByText('Morning! Did the seeds arrive?').first().waitFor();
    await page.getByLabel('Search messages').fill('lemon');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    const hits = page.getByRole('list', { name: 'Search results' }).getByRole('button');
    await hits.first().waitFor();
    assert.equal(await hits.count(), 15, '120 messages, one in eight mentions the lemon tree');
    await hits.last().click();
    await page.locator('.msg.highlight').getByText('Remember to water the lemon tree on Sunday').waitFor();
    await shots('inspect-search');
    await page.getByTestId('messages').getByRole('button', { name: 'Preview' }).first().click();
    const preview = page.getByRole('dialog', { name: /Preview of IMG-20240301-WA0001.jpg/ });
    await preview.getByRole('img').waitFor();
    await shots('inspect-media-preview');
    await preview.getByRole('button', { name: 'Close' }).click();
    const htmlDir = join(dir, 'html');
    await page.getByLabel('Export this chat as HTML into a new folder').fill(htmlDir);
    await page.getByRole('button', { name: 'Export as HTML' }).click();
    await page.getByText(/Saved the chat as HTML/).waitFor();
    const pages = readdirSync(htmlDir, { recursive: true }).map(String);
    assert.ok(pages.includes('index.html'), pages.join(', '));
    assert.ok(pages.some((p) => p.startsWith('media') && p !== 'media'), `media copied: ${pages.join(', ')}`);
    await page.getByRole('button', { name: 'Diagnostics report' }).click();
    const report = await page.getByTestId('diagnostics').inputValue();
    assert.match(report, /snapshots: 1/);
    assert.match(report, /catalog counts: chats=1 messages=120/);
    for (const secret of ['Garden', 'lemon', 'Ada', dir]) assert.ok(!report.includes(secret), `the report must not contain ${secret}`);
    await shots('inspect-diagnostics');
    assert.deepEqual(app.errors ?? [], []);
  });

  test('a snapshot saved as a .chatsafe bundle restores with the same key', async () => {
    const { page, shots } = app;
    // A fresh inspector (leaving the screen forgets the open catalog).
    await page.getByRole('button', { name: 'Settings', exact: true }).click();
    await page.getByRole('button', { name: 'Inspect', exact: true }).click();
    await page.getByLabel(/^Backup \(a repository/).fill(repo());
    await page.getByText('Open with the key the user gave you').click();
    await page.getByLabel('Key (64 digits)').fill(key);
    await page.getByRole('button', { name: 'Unlock' }).click();
    const file = join(dir, 'garden.chatsafe');
    await page.getByLabel('Save the bundle as').fill(file);
    await page.getByRole('button', { name: 'Save bundle' }).click();
    await page.getByText(/Saved 3 files .* as .*garden\.chatsafe/).waitFor({ timeout: 60_000 });
    await shots('bundle-saved');
    await page.getByRole('button', { name: 'Restore', exact: true }).click();
    await page.getByLabel(/^Backup \(a repository/).fill(file);
    await page.getByLabel('Key (64 digits)').fill(key);
    await page.getByRole('button', { name: 'Unlock' }).click();
    await page.getByText('Unlocked the bundle.').waitFor();
    const target = join(dir, 'from-bundle');
    await page.getByLabel('Restore into (an empty or new folder)').fill(target);
    await page.getByRole('button', { name: 'Restore', exact: true }).last().click();
    await page.getByTestId('restore-result').waitFor({ timeout: 60_000 });
    await shots('bundle-restored');
    assert.match(readFileSync(join(target, 'WhatsApp Chat with Garden Club', 'WhatsApp Chat with Garden Club.txt'), 'utf8'), /lemon tree/);
  });

  test('inspect browses the chats inside the bundle with the key', async () => {
    const { page, shots } = app;
    await page.getByRole('button', { name: 'Inspect', exact: true }).click();
    await page.getByLabel(/^Backup \(a repository/).fill(join(dir, 'garden.chatsafe'));
    await page.getByText('Open with the key the user gave you').click();
    await page.getByLabel('Key (64 digits)').fill(key);
    await page.getByRole('button', { name: 'Unlock' }).click();
    await page.getByRole('button', { name: 'Browse chats' }).click();
    await page.getByText('1 chat, 120 messages, 15 media files.').waitFor({ timeout: 30_000 });
    await page.getByLabel('Search messages').fill('seeds');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    const hits = page.getByRole('list', { name: 'Search results' }).getByRole('button');
    await hits.first().waitFor();
    assert.equal(await hits.count(), 15);
    await hits.nth(7).click();
    await page.locator('.msg.highlight').getByText('Morning! Did the seeds arrive?').waitFor();
    await page.getByTestId('messages').getByRole('button', { name: 'Preview' }).first().click();
    await page.getByRole('dialog', { name: /Preview of IMG-20240301-WA0001.jpg/ }).getByRole('img').waitFor();
    await shots('bundle-browse');
    await page.getByRole('dialog').getByRole('button', { name: 'Close' }).click();
    assert.deepEqual(app.errors ?? [], []);
  });
});
