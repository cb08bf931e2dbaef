/**
 * Automatic updates through electron-updater: off unless the user switched
 * them on in Settings (`autoUpdate`), and only in a packaged app that was
 * built with an update address (electron-builder writes app-update.yml into
 * the resources folder only then; scripts/dist.mjs leaves it out without
 * CHATSAFE_UPDATE_URL).
 *
 * What electron-updater checks before installing anything: the SHA-512 of the
 * download against the update file (latest*.yml) everywhere; on Windows,
 * additionally, that the new installer's Authenticode signature is valid and
 * its publisher is one of `publisherName` in electron-builder.yml; on macOS,
 * Squirrel.Mac requires the new app to satisfy the running app's designated
 * code-signing requirement (same Developer ID team). On Linux only the
 * AppImage updates itself, and there the SHA-512 from the update file, fetched
 * over https, is all that is checked: no signature. A .deb is not updated in
 * place; users install the new .deb, checked against SHA256SUMS and its GPG
 * signature (README, "Releasing").
 *
 * No Electron import here, so the decision is unit-tested without Electron
 * (test/release/updater.test.ts); electron-updater is loaded only when a check
 * is actually due.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** The one saved setting read here (src/app/contract.ts SettingsSchema; absent means off). */
export interface UpdateSettings {
  autoUpdate?: boolean;
  // The other settings come along; the index signature lets any settings object in.
  [other: string]: unknown;
}

/** The part of electron-updater's AppUpdater we use. */
export interface Updater {
  autoDownload: boolean;
  autoInstallOnAppQuit: boolean;
  logger: { info(m: unknown): void; warn(m: unknown): void; error(m: unknown): void } | null;
  checkForUpdatesAndNotify(): Promise<unknown>;
}

export interface UpdaterDeps {
  isPackaged: boolean;
  platform: NodeJS.Platform;
  /** The app's resources folder (process.resourcesPath), where app-update.yml is. */
  resourcesPath: string;
  env: Readonly<Record<string, string | undefined>>;
  loadSettings: () => Promise<UpdateSettings>;
  loadUpdater: () => Promise<Updater>;
  log: (line: string) => void;
  /** How often to look again while the app runs. */
  intervalMs: number;
}

export type UpdateDecision = { check: true } | { check: false; reason: string };

/** Whether to look for an update now, and if not, why (for the log). */
export function updateDecision(deps: Pick<UpdaterDeps, 'isPackaged' | 'platform' | 'resourcesPath' | 'env'>, settings: UpdateSettings): UpdateDecision {
  if (!deps.isPackaged) return { check: false, reason: 'not a packaged app' };
  if (settings.autoUpdate !== true) return { check: false, reason: 'automatic updates are off in Settings' };
  if (!existsSync(join(deps.resourcesPath, 'app-update.yml'))) return { check: false, reason: 'this build has no update address' };
  if (deps.platform === 'linux' && !deps.env.APPIMAGE) return { check: false, reason: 'only the AppImage updates itself on Linux' };
  return { check: true };
}

/** Looks for an update now, if due, and again every intervalMs. Returns a function that stops it. */
export function startUpdaterWith(deps: UpdaterDeps): () => void {
  let updater: Updater | null = null;
  const tick = async () => {
    try {
      // Read each time: switching the setting off stops the next check without a restart.
      const decision = updateDecision(deps, await deps.loadSettings());
      if (!decision.check) {
        deps.log(`updates: not checking (${decision.reason})`);
        return;
      }
      if (!updater) {
        updater = await deps.loadUpdater();
        updater.autoDownload = true;
        updater.autoInstallOnAppQuit = true;
        updater.logger = { info: () => undefined, warn: (m) => deps.log(`updates: ${String(m)}`), error: (m) => deps.log(`updates: ${String(m)}`) };
      }
      await updater.checkForUpdatesAndNotify();
    } catch (e) {
      // A failed check (offline, a bad signature) must never disturb the app; it is only logged.
      deps.log(`updates: check failed: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
    }
  };
  void tick();
  const timer = setInterval(() => void tick(), deps.intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

/** Electron main's entry: the real electron-updater and the process's own facts. */
export function startUpdater(isPackaged: boolean, loadSettings: () => Promise<UpdateSettings>): () => void {
  return startUpdaterWith({
    isPackaged,
    platform: process.platform,
    resourcesPath: (process as NodeJS.Process & { resourcesPath?: string }).resourcesPath ?? '',
    env: process.env,
    loadSettings,
    loadUpdater: async () => {
      // electron-updater is CommonJS: its exports arrive on the default export.
      const m = (await import('electron-updater')) as unknown as { autoUpdater?: Updater; default?: { autoUpdater: Updater } };
      const u = m.autoUpdater ?? m.default?.autoUpdater;
      if (!u) throw new Error('electron-updater has no autoUpdater');
      return u;
    },
    log: (line) => console.log(line),
    intervalMs: 6 * 60 * 60 * 1000,
  });
}
