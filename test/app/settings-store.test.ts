import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Settings } from '../../src/app/contract.js';
import { Router } from '../../src/app/router.js';
import { DEFAULT_SETTINGS, SettingsStore } from '../../src/app/settings-store.js';
import { aesBox } from './aes-box.js';

describe('settings store', () => {
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'chatsafe-settings-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('defaults when there is no file; saved settings come back; the file is private', async () => {
    const store = new SettingsStore(join(dir, 'a', 'settings.json'));
    assert.deepEqual(await store.load(), DEFAULT_SETTINGS);
    const s = { ...DEFAULT_SETTINGS, keepLast: 3, rememberedRepos: [{ address: '/media/usb/chats', label: 'chats' }] };
    await store.save(s);
    assert.deepEqual(await store.load(), s);
    assert.equal(statSync(join(dir, 'a', 'settings.json')).mode & 0o777, 0o600);
  });

  test('with a keychain box the remembered places are sealed in the file', async () => {
    const box = aesBox();
    const path = join(dir, 'b.json');
    const s = { ...DEFAULT_SETTINGS, rememberedRepos: [{ address: '/home/ada/secret-place', label: 'secret-place' }] };
    await new SettingsStore(path, box).save(s);
    assert.ok(!readFileSync(path, 'utf8').includes('secret-place'));
    assert.deepEqual(await new SettingsStore(path, box).load(), s);
    // Without the keychain the sealed list cannot be read: the rest of the settings still loads.
    assert.deepEqual((await new SettingsStore(path).load()).rememberedRepos, []);
  });

  test('a file from before a setting existed loads, with that setting at its default', async () => {
    const path = join(dir, 'old.json');
    writeFileSync(path, JSON.stringify({ settings: { keepLast: 5, vaultUrl: 'https://vault.example', theme: 'dark' }, rememberedRepos: [] }));
    const loaded = await new SettingsStore(path).load();
    assert.deepEqual(loaded, { ...DEFAULT_SETTINGS, keepLast: 5, vaultUrl: 'https://vault.example', theme: 'dark' });
    assert.equal(loaded.autoUpdate, false);
    assert.ok(!existsSync(`${path}.damaged`));
  });

  test('a damaged file gives the defaults and is kept aside', async () => {
    const path = join(dir, 'c.json');
    writeFileSync(path, '{"settings": {"keepLast": "lots"}');
    assert.deepEqual(await new SettingsStore(path).load(), DEFAULT_SETTINGS);
    assert.ok(existsSync(`${path}.damaged`));
  });
});

describe('settings.set through the router', () => {
  let dir: string;
  let router: Router;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'chatsafe-settings-set-'));
    router = new Router({ front: 'web', settings: new SettingsStore(join(dir, 'settings.json')) });
  });
  after(async () => {
    await router.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  const call = async (channel: string, request: unknown): Promise<Settings> => {
    const r = await router.handle(channel, request);
    assert.ok(r.ok, r.ok ? '' : `${channel}: ${r.error.kind}: ${r.error.message}`);
    return r.value as Settings;
  };

  test('two changes sent at the same moment are both kept, and each answer includes its own', async () => {
    await call('settings.set', { theme: 'system', keepLast: 1, rememberedRepos: [{ address: '/media/usb/chats', label: 'chats' }] });
    const [a, b, c] = await Promise.all([call('settings.set', { theme: 'dark' }), call('settings.set', { keepLast: 7 }), call('settings.set', { vaultUrl: 'https://vault.example' })]);
    assert.equal(a.theme, 'dark');
    assert.equal(b.keepLast, 7);
    assert.equal(c.vaultUrl, 'https://vault.example');
    const now = await call('settings.get', {});
    assert.deepEqual(now, { ...DEFAULT_SETTINGS, theme: 'dark', keepLast: 7, vaultUrl: 'https://vault.example', rememberedRepos: [{ address: '/media/usb/chats', label: 'chats' }] });
  });
});
