/**
 * The app's settings, one JSON file in the user's config folder, written
 * atomically (temp file, fsync, rename). The list of remembered repositories
 * can be sealed by the desktop app with the OS keychain (Electron's
 * safeStorage); the web mode keeps it in the file, readable by its owner only.
 */
import { promises as fs } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { SettingsSchema, type Settings } from './contract.js';

export const DEFAULT_SETTINGS: Settings = { keepLast: 1, vaultUrl: '', theme: 'system', autoUpdate: false, rememberedRepos: [] };

/** Seals a string with the OS keychain; provided by Electron main. */
export interface SecretBox {
  seal(plain: string): string;
  open(sealed: string): string;
}

const FileSchema = z.object({
  // Every field optional: a file written by an older version (without a newer field) still loads, with that field's default.
  settings: SettingsSchema.omit({ rememberedRepos: true }).partial(),
  rememberedRepos: z.union([z.string(), SettingsSchema.shape.rememberedRepos]),
});

export function defaultConfigDir(env: Readonly<Record<string, string | undefined>> = process.env): string {
  return env.CHATSAFE_CONFIG_DIR ?? join(env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'chatsafe');
}

export class SettingsStore {
  constructor(
    private readonly path: string,
    private readonly box: SecretBox | null = null,
  ) {}

  async load(): Promise<Settings> {
    let raw: string;
    try {
      raw = await fs.readFile(this.path, 'utf8');
    } catch {
      return { ...DEFAULT_SETTINGS };
    }
    try {
      const file = FileSchema.parse(JSON.parse(raw));
      let remembered = file.rememberedRepos;
      if (typeof remembered === 'string') remembered = this.box ? SettingsSchema.shape.rememberedRepos.parse(JSON.parse(this.box.open(remembered))) : [];
      return { ...DEFAULT_SETTINGS, ...definedOnly(file.settings), rememberedRepos: remembered };
    } catch {
      // A damaged settings file must not stop the app: start from the defaults, keep the old file aside.
      await fs.rename(this.path, `${this.path}.damaged`).catch(() => undefined);
      return { ...DEFAULT_SETTINGS };
    }
  }

  async save(settings: Settings): Promise<void> {
    const { rememberedRepos, ...rest } = settings;
    const body = { settings: rest, rememberedRepos: this.box ? this.box.seal(JSON.stringify(rememberedRepos)) : rememberedRepos };
    await fs.mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
    const tmp = `${this.path}.tmp-${process.pid}`;
    const fh = await fs.open(tmp, 'w', 0o600);
    try {
      await fh.writeFile(`${JSON.stringify(body, null, 2)}\n`);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fs.rename(tmp, this.path);
  }
}

/** The fields that are present (zod's partial() leaves absent ones out, but be exact about undefined). */
function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
