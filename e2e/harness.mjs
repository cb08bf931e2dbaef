// Shared pieces of the end-to-end tests: the real `chatsafe ui` process, a
// real Chromium (Debian's) or Electron driven by playwright-core, temp
// folders, and screenshots under e2e/screenshots/ (git-ignored).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { chromium, _electron } from 'playwright-core';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const CLI = join(ROOT, 'bin', 'chatsafe.js');
export const SHOTS = join(ROOT, 'e2e', 'screenshots');
export const CHROMIUM = process.env.CHATSAFE_CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'];

/** Which front the specs drive: Debian's Chromium against `chatsafe ui`, or Electron when a binary is given. */
export const FRONT = process.env.CHATSAFE_E2E_FRONT === 'electron' ? 'electron' : 'web';
export const SKIP =
  FRONT === 'electron'
    ? process.env.ELECTRON_OVERRIDE_DIST_PATH
      ? false
      : 'no Electron binary here (set ELECTRON_OVERRIDE_DIST_PATH to a folder holding one to run these specs in Electron)'
    : existsSync(CHROMIUM)
      ? false
      : `Chromium not found at ${CHROMIUM} (Debian package chromium)`;

/**
 * What every front is started with besides its folders: imports pause 100 ms every 10,000
 * messages (src/core/importers/progress.ts), so the specs that watch an import's count and cancel
 * it midway see the reading last seconds on a fast machine too.
 */
const TEST_ENV = { CHATSAFE_TEST_IMPORT_PAUSE_MS: '100' };

export function tempDir(prefix = 'chatsafe-e2e-') {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Starts `chatsafe ui --no-open` and resolves with its launch URL. */
export function startUi(configDir) {
  const child = spawn(process.execPath, [CLI, 'ui', '--no-open'], { env: { ...process.env, ...TEST_ENV, CHATSAFE_CONFIG_DIR: configDir, CHATSAFE_CACHE_DIR: join(configDir, 'cache') }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const url = new Promise((res, rej) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      const m = /(http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)/.exec(line);
      if (m) res(m[1]);
    });
    child.once('exit', (code) => rej(new Error(`chatsafe ui exited (${code}): ${stderr}`)));
  });
  return {
    url,
    child,
    stop: () =>
      new Promise((res) => {
        if (child.exitCode !== null) return res();
        child.once('exit', () => res());
        child.kill('SIGINT');
      }),
  };
}

/** One app window: a Chromium page on the web mode, or Electron's first window. */
export async function openApp(name) {
  const configDir = tempDir('chatsafe-e2e-config-');
  if (FRONT === 'electron') {
    const app = await _electron.launch({
      executablePath: join(process.env.ELECTRON_OVERRIDE_DIST_PATH, 'electron'),
      args: [join(ROOT, 'dist', 'electron', 'main.js')],
      env: { ...process.env, ...TEST_ENV, CHATSAFE_CONFIG_DIR: configDir, CHATSAFE_CACHE_DIR: join(configDir, 'cache') },
    });
    const page = await app.firstWindow();
    return { page, shots: shooter(page, name), close: async () => (await app.close(), rmSync(configDir, { recursive: true, force: true })) };
  }
  const ui = startUi(configDir);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  // Refused requests (a wrong key is a 403) are answers the page handles, not errors of the page.
  page.on('console', (m) => m.type() === 'error' && !m.text().startsWith('Failed to load resource') && errors.push(m.text()));
  await page.goto(await ui.url);
  return {
    page,
    errors,
    shots: shooter(page, name),
    close: async () => {
      await browser.close();
      await ui.stop();
      rmSync(configDir, { recursive: true, force: true });
    },
  };
}

function shooter(page, name) {
  mkdirSync(SHOTS, { recursive: true });
  let n = 0;
  return async (label) => {
    n++;
    await page.screenshot({ path: join(SHOTS, `${FRONT}-${name}-${String(n).padStart(2, '0')}-${label}.png`), fullPage: true });
  };
}

/** Walks the first-run wizard in key mode; returns the key as shown. */
export async function backupWithKey(page, shot, { source, repo, destination, sample = false }) {
  await page.getByRole('button', { name: 'Back up', exact: true }).click();
  if (sample) await page.getByRole('button', { name: 'Try it with sample data' }).click();
  else await page.getByLabel('File or folder to back up').fill(source);
  await page.locator('.detected-summary').waitFor();
  await shot('what');
  await page.getByRole('button', { name: 'Next' }).click();
  const keyBox = page.getByTestId('key');
  await keyBox.locator('.key-group').nth(15).waitFor();
  const groups = await keyBox.locator('.key-digits').allTextContents();
  await shot('protection-key');
  for (const field of await page.locator('.confirm-group').all()) {
    const n = Number(/Group (\d+)/.exec(await field.textContent())[1]);
    await field.locator('input').fill(groups[n - 1]);
  }
  await page.getByRole('button', { name: 'Next' }).click();
  // A saved destination (Settings) is picked by name; otherwise the place is typed.
  if (destination) {
    await page.getByRole('button', { name: destination, exact: true }).click();
    await page.getByText(`Using the saved destination “${destination}”`).waitFor();
  } else await page.getByLabel('Backup location').fill(repo);
  await page.getByRole('button', { name: 'Check', exact: true }).click();
  await page.getByText('Ready: a new repository will be created there.').waitFor();
  await shot('where');
  await page.getByRole('button', { name: 'Back up now' }).click();
  return groups.join(' ');
}
