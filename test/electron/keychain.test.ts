import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { keychainProtects } from '../../electron/keychain.js';
import { Router } from '../../src/app/router.js';
import { SettingsStore } from '../../src/app/settings-store.js';

describe('keychain: one that protects nothing counts as none', () => {
  test('Linux: a secret service protects; basic_text and unknown do not', () => {
    for (const backend of ['gnome_libsecret', 'kwallet', 'kwallet5', 'kwallet6']) {
      assert.equal(keychainProtects({ platform: 'linux', encryptionAvailable: true, linuxBackend: backend }), true, backend);
      assert.equal(keychainProtects({ platform: 'linux', encryptionAvailable: false, linuxBackend: backend }), false, `${backend} without encryption`);
    }
    for (const backend of ['basic_text', 'unknown', '', 'BASIC_TEXT', 'gnome_libsecret ', null]) {
      assert.equal(keychainProtects({ platform: 'linux', encryptionAvailable: true, linuxBackend: backend }), false, String(backend));
    }
  });

  test('macOS and Windows: the keychain is there when encryption is available', () => {
    for (const platform of ['darwin', 'win32'] as const) {
      assert.equal(keychainProtects({ platform, encryptionAvailable: true, linuxBackend: null }), true, platform);
      assert.equal(keychainProtects({ platform, encryptionAvailable: false, linuxBackend: null }), false, platform);
    }
  });

  test('app.info tells the window where secrets rest', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chatsafe-keychain-'));
    try {
      for (const secretStorage of ['keychain', 'file', undefined] as const) {
        const router = new Router({ front: 'electron', settings: new SettingsStore(join(dir, 'settings.json')), ...(secretStorage ? { secretStorage } : {}) });
        const r = await router.handle('app.info', {});
        await router.dispose();
        assert.equal(r.ok && (r.value as { secretStorage: string }).secretStorage, secretStorage ?? 'file');
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
