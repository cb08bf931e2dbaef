/**
 * Electron main: windows, the app:// protocol, menus, native dialogs, the OS
 * keychain, and the IPC entry points. No business logic: every request goes
 * to the router (src/app/router.ts), which validates it against the IPC
 * contract and runs long jobs in worker threads. The security rules live in
 * security.ts, where they are unit-tested without Electron.
 */
import { app, BrowserWindow, dialog, ipcMain, Menu, protocol, safeStorage, session, shell, type MenuItemConstructorOptions } from 'electron';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IPC } from '../src/app/contract.js';
import { Router } from '../src/app/router.js';
import { defaultConfigDir, SettingsStore, type SecretBox } from '../src/app/settings-store.js';
import { defaultIndexCacheDir } from '../src/core/repo/index-cache.js';
import { APP_VERSION } from '../src/core/version.js';
import { ipcHandlers } from './ipc.js';
import { keychainProtects } from './keychain.js';
import { bundlePathFromArgv, listenForBundles, OpenedFile } from './open-file.js';
import { allowExternal, allowPermission, APP_ORIGIN, APP_SCHEME, appProtocolResponse, hardenContents } from './security.js';
import { startUpdater } from './updater.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const RENDERER_DIR = join(here, '..', '..', 'renderer', 'dist');
const PRELOAD = join(here, 'preload.cjs');

protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);
app.enableSandbox();

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  let win: BrowserWindow | null = null;
  let router: Router | null = null;

  const openExternal = (url: string) => {
    if (allowExternal(url)) void shell.openExternal(url);
  };

  // A bundle double-clicked in the file manager: kept until the window asks for it (app.openedFile).
  const opened = new OpenedFile();
  // In development Electron runs as `electron APP_PATH …`; that argument is the app, not a file to open.
  const ownPaths = app.isPackaged ? [] : [app.getAppPath()];
  opened.offer(bundlePathFromArgv(process.argv, process.cwd(), ownPaths));
  listenForBundles(app, opened, {
    ownPaths,
    cwd: () => process.cwd(),
    surface(arrived) {
      if (!win || win.isDestroyed()) return;
      if (win.isMinimized()) win.restore();
      win.focus();
      // Only "ask again": the path itself travels through the validated app.openedFile call.
      if (arrived && !win.webContents.isDestroyed()) win.webContents.send(IPC.openedFile);
    },
  });

  app.on('web-contents-created', (_e, contents) => hardenContents(contents, openExternal));

  app.whenReady().then(() => {
    session.defaultSession.setPermissionRequestHandler((_wc, permission, callback) => callback(allowPermission(permission)));
    session.defaultSession.setPermissionCheckHandler((_wc, permission) => allowPermission(permission));
    protocol.handle(APP_SCHEME, async (request) => {
      const r = await appProtocolResponse(RENDERER_DIR, request.url, (p) => fs.readFile(p));
      return new Response(r.body ? new Uint8Array(r.body) : null, { status: r.status, headers: r.headers });
    });

    // Remembered repositories and profiles are sealed by the OS keychain when there is one that protects
    // them; Linux's basic_text fallback does not (keychain.ts), so then they stay in the 0600 file.
    const keychain = keychainProtects({
      platform: process.platform,
      encryptionAvailable: safeStorage.isEncryptionAvailable(),
      linuxBackend: process.platform === 'linux' ? safeStorage.getSelectedStorageBackend() : null,
    });
    const box: SecretBox | null = keychain
      ? { seal: (s) => safeStorage.encryptString(s).toString('base64'), open: (s) => safeStorage.decryptString(Buffer.from(s, 'base64')) }
      : null;
    router = new Router({
      front: 'electron',
      settings: new SettingsStore(join(defaultConfigDir(), 'settings.json'), box),
      secretStorage: keychain ? 'keychain' : 'file',
      // The folder the command line uses too, so either reuses the copy the other left.
      indexCacheDir: defaultIndexCacheDir(process.env),
      shell: {
        async openDialog(pick, title) {
          const properties: Array<'openFile' | 'openDirectory' | 'createDirectory'> = pick === 'folder' ? ['openDirectory', 'createDirectory'] : pick === 'file' ? ['openFile'] : ['openFile', 'openDirectory'];
          const r = win ? await dialog.showOpenDialog(win, { title, properties }) : await dialog.showOpenDialog({ title, properties });
          return r.canceled ? null : (r.filePaths[0] ?? null);
        },
        async saveDialog(defaultName, title) {
          const r = win ? await dialog.showSaveDialog(win, { title, defaultPath: defaultName }) : await dialog.showSaveDialog({ title, defaultPath: defaultName });
          return r.canceled ? null : (r.filePath ?? null);
        },
        async openExternal(url) {
          openExternal(url);
        },
        versions: () => ({ electron: process.versions.electron ?? '', chrome: process.versions.chrome ?? '' }),
        takeOpenedFile: () => opened.take(),
      },
    });
    startUpdater(app.isPackaged, () => new SettingsStore(join(defaultConfigDir(), 'settings.json'), box).load());
    const handlers = ipcHandlers(router);
    ipcMain.handle(IPC.call, (event, channel: unknown, request: unknown) => handlers.call(event, channel, request));
    ipcMain.handle(IPC.job, (event, channel: unknown, envelope: unknown) => handlers.job(event, channel, envelope));

    Menu.setApplicationMenu(Menu.buildFromTemplate(menuTemplate()));
    // The Electron security checklist, written out here so the scanner in `npm test` can read it.
    win = new BrowserWindow({
      width: 1100,
      height: 820,
      title: 'Chatsafe',
      show: false,
      webPreferences: {
        preload: PRELOAD,
        contextIsolation: true,
        sandbox: true,
        nodeIntegration: false,
        nodeIntegrationInWorker: false,
        nodeIntegrationInSubFrames: false,
        webSecurity: true,
        allowRunningInsecureContent: false,
        experimentalFeatures: false,
        webviewTag: false,
        navigateOnDragDrop: false,
        spellcheck: false,
        safeDialogs: true,
        disableBlinkFeatures: 'Auxclick',
      },
    });
    win.once('ready-to-show', () => win?.show());
    win.on('closed', () => (win = null));
    void win.loadURL(`${APP_ORIGIN}/index.html`);
  });

  app.on('window-all-closed', () => app.quit());
  app.on('will-quit', () => void router?.dispose());

  function menuTemplate(): MenuItemConstructorOptions[] {
    return [
      ...(process.platform === 'darwin' ? [{ role: 'appMenu' as const }] : []),
      { label: 'File', submenu: [{ role: 'quit' }] },
      { role: 'editMenu' },
      { label: 'View', submenu: [{ role: 'resetZoom' }, { role: 'zoomIn' }, { role: 'zoomOut' }, { type: 'separator' }, { role: 'togglefullscreen' }] },
      {
        label: 'Help',
        submenu: [
          { label: 'Chatsafe website', click: () => openExternal('https://chatsafe.app/') },
          {
            label: 'About Chatsafe',
            click: () =>
              void dialog.showMessageBox({
                type: 'info',
                title: 'About Chatsafe',
                message: `Chatsafe ${APP_VERSION}`,
                detail: `End-to-end encrypted backups of phone chat histories.\n\nElectron ${process.versions.electron}\nChromium ${process.versions.chrome}\nNode ${process.versions.node}`,
              }),
          },
        ],
      },
    ];
  }
}
