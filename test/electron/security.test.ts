import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ipcHandlers, type InvokeEvent } from '../../electron/ipc.js';
import {
  allowExternal,
  allowNavigation,
  allowPermission,
  appProtocolResponse,
  CSP,
  hardenContents,
  isTrustedSender,
  resolveAppFile,
  type ContentsLike,
} from '../../electron/security.js';
import { IPC } from '../../src/app/contract.js';
import { Router } from '../../src/app/router.js';
import { SettingsStore } from '../../src/app/settings-store.js';
import { malformedRequests } from '../app/malformed.js';

describe('Electron security rules (Electron faked at its boundary)', () => {
  let dir: string;
  let rendererDir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'chatsafe-electron-'));
    rendererDir = join(dir, 'renderer');
    mkdirSync(join(rendererDir, 'assets'), { recursive: true });
    writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>t</title>');
    writeFileSync(join(rendererDir, 'assets', 'app.js'), 'x');
    writeFileSync(join(dir, 'secret.txt'), 'secret');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('sender validation: only the app origin, only the top frame', () => {
    assert.equal(isTrustedSender({ url: 'app://chatsafe/index.html' }), true);
    assert.equal(isTrustedSender({ url: 'app://chatsafe/index.html', parent: {} }), false, 'a subframe');
    for (const url of ['app://evil/index.html', 'file:///etc/passwd', 'https://chatsafe.app/', 'http://127.0.0.1:1/', 'about:blank', 'devtools://devtools', '', 'not a url']) {
      assert.equal(isTrustedSender({ url }), false, url);
    }
    assert.equal(isTrustedSender(null), false);
    assert.equal(isTrustedSender(undefined), false);
  });

  test('navigation stays inside the app', () => {
    assert.equal(allowNavigation('app://chatsafe/index.html#x'), true);
    for (const url of ['https://example.org/', 'file:///tmp/x.html', 'app://other/', 'javascript:alert(1)', 'data:text/html,x', 'chrome://settings']) assert.equal(allowNavigation(url), false, url);
  });

  test('openExternal only for the https allowlist', () => {
    assert.equal(allowExternal('https://chatsafe.app/help'), true);
    assert.equal(allowExternal('https://github.com/chatsafe/chatsafe/issues'), true);
    for (const url of ['http://chatsafe.app/', 'https://chatsafe.app.evil.example/', 'https://evil.example/?https://chatsafe.app/', 'https://user:pw@chatsafe.app/', 'file:///etc/passwd', 'smb://host/share', 'javascript:alert(1)']) {
      assert.equal(allowExternal(url), false, url);
    }
  });

  test('every permission is denied', () => {
    for (const p of ['media', 'geolocation', 'notifications', 'clipboard-read', 'openExternal', 'fullscreen', 'hid', 'serial', 'usb']) assert.equal(allowPermission(p), false, p);
  });

  test('the app:// protocol serves only files under the renderer folder, with the CSP', async () => {
    assert.equal(resolveAppFile(rendererDir, 'app://chatsafe/'), join(rendererDir, 'index.html'));
    assert.equal(resolveAppFile(rendererDir, 'app://chatsafe/assets/app.js'), join(rendererDir, 'assets', 'app.js'));
    for (const url of ['app://chatsafe/../secret.txt', 'app://chatsafe/%2e%2e/secret.txt', 'app://chatsafe/assets/..%2f..%2fsecret.txt', 'app://chatsafe/assets/%2e%2e%5c%2e%2e%5csecret.txt', 'app://chatsafe/%00', 'app://chatsafe/%E0%A4%A', 'app://other/index.html', 'file:///etc/passwd']) {
      const file = resolveAppFile(rendererDir, url);
      assert.ok(file === null || file.startsWith(rendererDir), `${url} → ${file}`);
      const r = await appProtocolResponse(rendererDir, url, readFile);
      assert.ok(!r.body?.toString().includes('secret'), url);
    }
    const ok = await appProtocolResponse(rendererDir, 'app://chatsafe/index.html', readFile);
    assert.equal(ok.status, 200);
    assert.equal(ok.headers['Content-Security-Policy'], CSP);
    assert.match(CSP, /default-src 'none'/);
    assert.doesNotMatch(CSP, /unsafe-eval|unsafe-inline/);
    assert.equal((await appProtocolResponse(rendererDir, 'app://chatsafe/missing.js', readFile)).status, 404);
  });

  test('webContents hardening: no navigation away, no new windows, no webview', () => {
    const listeners = new Map<string, (e: { preventDefault(): void }, url?: string) => void>();
    let openHandler: ((d: { url: string }) => { action: 'deny' }) | null = null;
    const fake: ContentsLike = {
      on: ((event: string, l: (e: { preventDefault(): void }, url?: string) => void) => listeners.set(event, l)) as ContentsLike['on'],
      setWindowOpenHandler: (h) => (openHandler = h),
    };
    const opened: string[] = [];
    hardenContents(fake, (u) => opened.push(u));
    const attempt = (event: string, url?: string) => {
      let prevented = false;
      listeners.get(event)!({ preventDefault: () => (prevented = true) }, url);
      return prevented;
    };
    assert.equal(attempt('will-navigate', 'https://evil.example/'), true);
    assert.equal(attempt('will-redirect', 'file:///etc/passwd'), true);
    assert.equal(attempt('will-navigate', 'app://chatsafe/index.html'), false);
    assert.equal(attempt('will-attach-webview'), true);
    assert.deepEqual(openHandler!({ url: 'https://evil.example/' }), { action: 'deny' });
    assert.deepEqual(openHandler!({ url: 'https://chatsafe.app/help' }), { action: 'deny' });
    assert.deepEqual(opened, ['https://chatsafe.app/help'], 'allowlisted links go to the system browser, never a new window');
  });

  test('the preload exposes one object through contextBridge and never ipcRenderer itself', () => {
    const src = readFileSync(new URL('../../electron/preload.cjs', import.meta.url), 'utf8');
    assert.equal((src.match(/exposeInMainWorld\(/g) ?? []).length, 1);
    assert.doesNotMatch(src, /exposeInMainWorld\([^)]*ipcRenderer\s*\)/);
    assert.deepEqual([...src.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]), ['electron'], 'a sandboxed preload loads nothing but electron');
  });

  describe('IPC handlers', () => {
    let router: Router;
    before(() => {
      router = new Router({ front: 'electron', settings: new SettingsStore(join(dir, 'settings.json')) });
    });
    after(() => router.dispose());

    const event = (url: string, parent: unknown = null): InvokeEvent & { sent: unknown[][] } => {
      const sent: unknown[][] = [];
      return { senderFrame: { url, parent } as never, sender: { send: (...a: unknown[]) => void sent.push(a), isDestroyed: () => false } as never, sent };
    };

    test('requests from other frames or origins are refused before anything runs', async () => {
      const h = ipcHandlers(router);
      for (const e of [event('https://evil.example/'), event('app://chatsafe/index.html', {}), event('file:///index.html')]) {
        const r = await h.call(e, 'app.info', {});
        assert.equal(r.ok, false);
        assert.equal(!r.ok && r.error.kind, 'forbidden');
        const j = await h.job(e, 'detect', { jobId: 'job-eeeeeeeeee', request: { path: dir } });
        assert.equal(!j.ok && j.error.kind, 'forbidden');
      }
      const ok = await h.call(event('app://chatsafe/index.html'), 'app.info', {});
      assert.equal(ok.ok && (ok.value as { front: string }).front, 'electron');
    });

    test('1,000 malformed requests through the IPC entry points get typed errors', async () => {
      const h = ipcHandlers(router);
      const e = event('app://chatsafe/index.html');
      for (const m of malformedRequests(1000, 777)) {
        const r = await (typeof m.channel === 'string' && ['detect', 'backup', 'restore', 'check', 'export', 'prune'].includes(m.channel) ? h.job(e, m.channel, m.payload) : h.call(e, m.channel, m.payload));
        assert.equal(!r.ok && r.error.kind, 'usage', m.what);
      }
      assert.deepEqual(e.sent, []);
    });

    test('job progress goes back to the sender on the progress channel', async () => {
      const h = ipcHandlers(router);
      const e = event('app://chatsafe/index.html');
      const src = join(dir, 'src');
      mkdirSync(src, { recursive: true });
      writeFileSync(join(src, 'a.txt'), 'a');
      const r = await h.job(e, 'check', { jobId: 'job-ffffffffff', request: { address: src, readData: false } });
      assert.equal(r.ok, false, 'not a repository');
      for (const s of e.sent) assert.equal(s[0], IPC.progress);
    });
  });
});
