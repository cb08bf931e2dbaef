/**
 * electron/updater.ts: updates stay off unless the saved setting says so, in a
 * packaged app with an update address; the setting is re-read at every check;
 * a failing check is only logged. electron-updater itself needs Electron, so
 * the updater is replaced at its boundary (the object electron-updater exports);
 * the settings come from a real settings file through the real SettingsStore.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { startUpdaterWith, updateDecision, type Updater, type UpdaterDeps } from '../../electron/updater.js';
import { SettingsStore } from '../../src/app/settings-store.js';
import { tempDir } from '../helpers/tmp.js';

let tmp: { dir: string; cleanup: () => void };
beforeEach(() => {
  tmp = tempDir('chatsafe-updater-');
});
afterEach(() => tmp.cleanup());

/** A fresh resources folder, with or without the app-update.yml electron-builder writes. */
function resources(withUpdateConfig: boolean): string {
  const dir = mkdtempSync(join(tmp.dir, 'resources-'));
  if (withUpdateConfig) writeFileSync(join(dir, 'app-update.yml'), 'provider: generic\nurl: https://updates.invalid/\n');
  return dir;
}

class RecordingUpdater implements Updater {
  autoDownload = false;
  autoInstallOnAppQuit = false;
  logger: Updater['logger'] = null;
  checks = 0;
  constructor(private readonly failWith: string | null = null) {}
  async checkForUpdatesAndNotify(): Promise<unknown> {
    this.checks++;
    if (this.failWith) throw new Error(`${this.failWith}\n    at somewhere (stack)`);
    return null;
  }
}

describe('update decision', () => {
  const base = { isPackaged: true, platform: 'win32' as NodeJS.Platform, env: {} };

  test('off by default: a missing or false setting never checks', () => {
    const resourcesPath = resources(true);
    assert.deepEqual(updateDecision({ ...base, resourcesPath }, {}), { check: false, reason: 'automatic updates are off in Settings' });
    assert.equal(updateDecision({ ...base, resourcesPath }, { autoUpdate: false }).check, false);
    assert.equal(updateDecision({ ...base, resourcesPath }, { autoUpdate: true }).check, true);
  });

  test('only a packaged app built with an update address', () => {
    assert.equal(updateDecision({ ...base, isPackaged: false, resourcesPath: resources(true) }, { autoUpdate: true }).check, false);
    const noAddress = updateDecision({ ...base, resourcesPath: resources(false) }, { autoUpdate: true });
    assert.deepEqual(noAddress, { check: false, reason: 'this build has no update address' });
  });

  test('on Linux only the AppImage updates itself', () => {
    const resourcesPath = resources(true);
    assert.equal(updateDecision({ ...base, platform: 'linux', resourcesPath }, { autoUpdate: true }).check, false);
    assert.equal(updateDecision({ ...base, platform: 'linux', resourcesPath, env: { APPIMAGE: '/home/u/Chatsafe.AppImage' } }, { autoUpdate: true }).check, true);
  });
});

describe('updater', () => {
  function deps(store: SettingsStore, updater: RecordingUpdater, log: string[], loads: { n: number }): UpdaterDeps {
    return {
      isPackaged: true,
      platform: 'darwin',
      resourcesPath: resources(true),
      env: {},
      loadSettings: () => store.load(),
      loadUpdater: async () => {
        loads.n++;
        return updater;
      },
      log: (line) => log.push(line),
      intervalMs: 20,
    };
  }

  const until = async (cond: () => boolean) => {
    for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(cond(), 'condition reached within 2 s');
  };

  test('follows the saved setting: nothing loaded while off, checks once on, stops when off again', async () => {
    const store = new SettingsStore(join(tmp.dir, 'settings.json'));
    const settings = await store.load();
    await store.save({ ...settings, autoUpdate: false } as typeof settings);
    const updater = new RecordingUpdater();
    const log: string[] = [];
    const loads = { n: 0 };
    const stop = startUpdaterWith(deps(store, updater, log, loads));
    try {
      await until(() => log.length >= 2);
      assert.equal(loads.n, 0, 'electron-updater is not even loaded while updates are off');
      assert.match(log[0] ?? '', /not checking \(automatic updates are off in Settings\)/);

      await store.save({ ...settings, autoUpdate: true } as typeof settings);
      await until(() => updater.checks >= 2);
      assert.equal(loads.n, 1, 'loaded once, reused');
      assert.equal(updater.autoDownload, true);
      assert.equal(updater.autoInstallOnAppQuit, true);

      const logged = log.length;
      await store.save({ ...settings, autoUpdate: false } as typeof settings);
      await until(() => log.slice(logged).some((l) => l.includes('not checking')));
      await new Promise((r) => setTimeout(r, 100)); // a check that read the setting before the change may still finish
      const checks = updater.checks;
      await new Promise((r) => setTimeout(r, 150));
      assert.equal(updater.checks, checks, 'no more checks once switched off');
    } finally {
      stop();
    }
  });

  test('a failing check is logged in one line and the app goes on', async () => {
    const store = new SettingsStore(join(tmp.dir, 'settings.json'));
    const settings = await store.load();
    await store.save({ ...settings, autoUpdate: true } as typeof settings);
    const updater = new RecordingUpdater('net::ERR_INTERNET_DISCONNECTED');
    const log: string[] = [];
    const stop = startUpdaterWith(deps(store, updater, log, { n: 0 }));
    try {
      await until(() => updater.checks >= 2);
      const failure = log.find((l) => l.includes('check failed'));
      assert.equal(failure, 'updates: check failed: net::ERR_INTERNET_DISCONNECTED');
    } finally {
      stop();
    }
  });
});
