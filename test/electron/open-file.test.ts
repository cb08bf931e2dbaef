import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ipcHandlers, type InvokeEvent } from '../../electron/ipc.js';
import { acceptBundlePath, bundlePathFromArgv, listenForBundles, MAX_OPENED_PATH, OpenedFile, type FileHandoverEvents } from '../../electron/open-file.js';
import type { ShellHooks } from '../../src/app/calls.js';
import { Router } from '../../src/app/router.js';
import { SettingsStore } from '../../src/app/settings-store.js';

describe('bundles handed over by the operating system', () => {
  let dir: string;
  let bundle: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'chatsafe-open-file-'));
    bundle = join(dir, 'Family chats.chatsafe');
    writeFileSync(bundle, 'not opened here: only its name and kind matter');
    writeFileSync(join(dir, 'UPPER.CHATSAFE'), 'x');
    writeFileSync(join(dir, 'notes.txt'), 'x');
    mkdirSync(join(dir, 'folder.chatsafe'));
    symlinkSync(join(dir, 'folder.chatsafe'), join(dir, 'link-to-folder.chatsafe'));
    symlinkSync(bundle, join(dir, 'link-to-bundle.chatsafe'));
    symlinkSync(join(dir, 'missing.chatsafe'), join(dir, 'dangling.chatsafe'));
    symlinkSync('/dev/null', join(dir, 'device.chatsafe'));
    execFileSync('mkfifo', [join(dir, 'pipe.chatsafe')]);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('an existing regular *.chatsafe file is accepted, absolute or relative to the launch folder', () => {
    assert.equal(acceptBundlePath(bundle, '/'), bundle);
    assert.equal(acceptBundlePath('Family chats.chatsafe', dir), bundle);
    assert.equal(acceptBundlePath('./sub/../Family chats.chatsafe', dir), bundle);
    assert.equal(acceptBundlePath('UPPER.CHATSAFE', dir), join(dir, 'UPPER.CHATSAFE'), 'the extension is case-insensitive');
    assert.equal(acceptBundlePath('link-to-bundle.chatsafe', dir), join(dir, 'link-to-bundle.chatsafe'), 'a link to a bundle is a bundle');
  });

  test('everything else is ignored', () => {
    const refused: unknown[] = [
      'notes.txt',
      'folder.chatsafe',
      'link-to-folder.chatsafe',
      'dangling.chatsafe',
      'missing.chatsafe',
      '/dev/null',
      'device.chatsafe',
      'pipe.chatsafe',
      '--inspect=9229',
      '--',
      '-psn_0_12345',
      '--user-data-dir=/tmp/x.chatsafe',
      `file://${bundle}`,
      'https://example.org/x.chatsafe',
      'chatsafe://open?x.chatsafe',
      `${bundle}\0.chatsafe`,
      '',
      `${'a/'.repeat(MAX_OPENED_PATH)}x.chatsafe`,
      42,
      null,
      undefined,
      { path: bundle },
    ];
    for (const arg of refused) assert.equal(acceptBundlePath(arg, dir), null, String(arg).slice(0, 80));
    assert.equal(acceptBundlePath('Family chats.chatsafe', 'relative/cwd'), null, 'a relative path needs an absolute launch folder');
  });

  test('the bundle is found among Electron and Chromium switches, the app path and other arguments', () => {
    const exe = '/opt/Chatsafe/chatsafe';
    assert.equal(bundlePathFromArgv([exe, bundle], '/'), bundle, 'first launch from the file manager');
    assert.equal(bundlePathFromArgv([exe, '--no-sandbox', '--', 'Family chats.chatsafe'], dir), bundle);
    // A second instance's argv, as Chromium hands it on: its own switches appended after the file.
    assert.equal(bundlePathFromArgv([exe, 'Family chats.chatsafe', '--allow-file-access-from-files', '--original-process-start-time=13370000000000000'], dir), bundle);
    assert.equal(bundlePathFromArgv([exe, 'notes.txt', 'folder.chatsafe', 'UPPER.CHATSAFE', 'Family chats.chatsafe'], dir), join(dir, 'UPPER.CHATSAFE'), 'the first acceptable one');
    assert.equal(bundlePathFromArgv([bundle], dir), null, 'argv[0] is the executable, never a file to open');
    assert.equal(bundlePathFromArgv([exe, 'UPPER.CHATSAFE'], dir, [join(dir, 'UPPER.CHATSAFE')]), null, 'the app path itself');
    assert.equal(bundlePathFromArgv([exe, '.', '--inspect'], dir, ['.']), null);
    assert.equal(bundlePathFromArgv([], dir), null);
  });

  test('the window takes the newest bundle once', () => {
    const opened = new OpenedFile();
    assert.equal(opened.take(), null);
    assert.equal(opened.offer(null), false);
    assert.equal(opened.offer('/a.chatsafe'), true);
    assert.equal(opened.offer('/b.chatsafe'), true);
    assert.equal(opened.take(), '/b.chatsafe');
    assert.equal(opened.take(), null, 'taken: a reload does not open it again');
  });

  describe('app events (Electron faked at its boundary)', () => {
    /** A fake `app`: keeps the listeners so the test can fire the events main would receive. */
    function fakeApp() {
      const listeners = new Map<string, (...args: never[]) => void>();
      const events: FileHandoverEvents = { on: (name: string, l: (...args: never[]) => void) => listeners.set(name, l) };
      const fire = (name: string, ...args: unknown[]) => (listeners.get(name) as (...a: unknown[]) => void)(...args);
      return { events, fire, listeners };
    }

    test('a second launch with a bundle signals the window; without one it only brings it forward', () => {
      const { events, fire } = fakeApp();
      const opened = new OpenedFile();
      const surfaced: boolean[] = [];
      listenForBundles(events, opened, { ownPaths: [], cwd: () => '/', surface: (a) => surfaced.push(a) });
      fire('second-instance', {}, ['/opt/Chatsafe/chatsafe', '--flag', 'Family chats.chatsafe'], dir);
      assert.deepEqual(surfaced, [true]);
      assert.equal(opened.take(), bundle);
      fire('second-instance', {}, ['/opt/Chatsafe/chatsafe', 'notes.txt', 'https://evil.example/x.chatsafe'], dir);
      fire('second-instance', {}, 'not an array', dir);
      assert.deepEqual(surfaced, [true, false, false]);
      assert.equal(opened.take(), null);
    });

    test('macOS open-file events are claimed, and only bundles are kept', () => {
      const { events, fire } = fakeApp();
      const opened = new OpenedFile();
      const surfaced: boolean[] = [];
      listenForBundles(events, opened, { ownPaths: [], cwd: () => dir, surface: (a) => surfaced.push(a) });
      let prevented = 0;
      const event = { preventDefault: () => void prevented++ };
      fire('open-file', event, join(dir, 'folder.chatsafe'));
      assert.deepEqual(surfaced, []);
      fire('open-file', event, bundle);
      assert.deepEqual(surfaced, [true]);
      assert.equal(prevented, 2);
      assert.equal(opened.take(), bundle);
    });
  });

  describe('app.openedFile through the IPC entry points', () => {
    let routers: Router[];
    before(() => (routers = []));
    after(async () => {
      for (const r of routers) await r.dispose();
    });
    const trusted = (): InvokeEvent => ({ senderFrame: { url: 'app://chatsafe/index.html', parent: null } as never, sender: { send: () => undefined, isDestroyed: () => false } as never });
    const shellWith = (opened: OpenedFile): ShellHooks => ({
      openDialog: async () => null,
      saveDialog: async () => null,
      openExternal: async () => undefined,
      versions: () => ({}),
      takeOpenedFile: () => opened.take(),
    });

    test('the desktop app answers the bundle once, then null; a bad request or sender is refused', async () => {
      const opened = new OpenedFile();
      const router = new Router({ front: 'electron', settings: new SettingsStore(join(dir, 'settings.json')), shell: shellWith(opened) });
      routers.push(router);
      const h = ipcHandlers(router);
      assert.deepEqual(await h.call(trusted(), 'app.openedFile', {}), { ok: true, value: { path: null } });
      opened.offer(bundle);
      const refused = await h.call({ ...trusted(), senderFrame: { url: 'https://evil.example/', parent: null } as never }, 'app.openedFile', {});
      assert.equal(!refused.ok && refused.error.kind, 'forbidden');
      const bad = await h.call(trusted(), 'app.openedFile', { path: '/etc/passwd' });
      assert.equal(!bad.ok && bad.error.kind, 'usage');
      assert.deepEqual(await h.call(trusted(), 'app.openedFile', {}), { ok: true, value: { path: bundle } }, 'neither refusal took it');
      assert.deepEqual(await h.call(trusted(), 'app.openedFile', {}), { ok: true, value: { path: null } });
    });

    test('the web mode has no file handed over', async () => {
      const router = new Router({ front: 'web', settings: new SettingsStore(join(dir, 'settings-web.json')) });
      routers.push(router);
      assert.deepEqual(await router.handle('app.openedFile', {}), { ok: true, value: { path: null } });
    });
  });
});
