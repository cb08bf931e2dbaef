/**
 * The app's settings, one JSON file in the user's config folder, written
 * atomically (temp file, fsync, rename). Two parts can be sealed by the
 * desktop app with the OS keychain (Electron's safeStorage): the list of
 * remembered repositories, and the saved storage profiles with their
 * secrets (S3 secret keys, WebDAV passwords). The web mode keeps them in the
 * file, readable by its owner only (0600).
 */
import { promises as fs } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { MAX_PROFILES, SettingsSchema, type Settings } from './contract.js';
import { StoredProfileSchema, type StoredProfile } from './storage-profiles.js';

export const DEFAULT_SETTINGS: Settings = { keepLast: 1, vaultUrl: '', theme: 'system', autoUpdate: false, rememberedRepos: [] };

/** Seals a string with the OS keychain; provided by Electron main. */
export interface SecretBox {
  seal(plain: string): string;
  open(sealed: string): string;
}

const ProfilesSchema = z.array(StoredProfileSchema).max(MAX_PROFILES);

const FileSchema = z.object({
  // Every field optional: a file written by an older version (without a newer field) still loads, with that field's default.
  settings: SettingsSchema.omit({ rememberedRepos: true }).partial(),
  rememberedRepos: z.union([z.string(), SettingsSchema.shape.rememberedRepos]),
  storageProfiles: z.union([z.string(), ProfilesSchema]).optional(),
});

/** What is in the file. A part sealed by a keychain this process cannot use is carried over untouched. */
interface Contents {
  settings: Settings;
  profiles: StoredProfile[];
  /** The sealed profiles as found, when they could not be opened here (kept, so saving does not erase them). */
  sealedProfiles: string | null;
}

export function defaultConfigDir(env: Readonly<Record<string, string | undefined>> = process.env): string {
  return env.CHATSAFE_CONFIG_DIR ?? join(env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'chatsafe');
}

export class SettingsStore {
  /** Read-modify-write of the one file, one at a time (settings and profiles are saved by different calls). */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly path: string,
    private readonly box: SecretBox | null = null,
  ) {}

  async load(): Promise<Settings> {
    return (await this.read()).settings;
  }

  async save(settings: Settings): Promise<void> {
    await this.change((c) => ({ ...c, settings }));
  }

  /**
   * Lays `patch` over the saved settings and returns the result. Reading and writing are one queued step:
   * two changes made at the same moment (to different fields) must both be kept.
   */
  async update(patch: Partial<Settings>): Promise<Settings> {
    let next: Settings = { ...DEFAULT_SETTINGS };
    await this.change((c) => {
      next = { ...c.settings, ...definedOnly(patch) };
      return { ...c, settings: next };
    });
    return next;
  }

  /** The saved storage profiles, secrets included: for the back only, never sent to the renderer as they are. */
  async loadProfiles(): Promise<StoredProfile[]> {
    return (await this.read()).profiles;
  }

  /** Changes the profile list under the file's lock; `change` gets the current list and returns the new one. */
  async updateProfiles(change: (profiles: StoredProfile[]) => StoredProfile[]): Promise<StoredProfile[]> {
    let next: StoredProfile[] = [];
    await this.change((c) => {
      next = ProfilesSchema.parse(change(c.profiles));
      return { ...c, profiles: next, sealedProfiles: null };
    });
    return next;
  }

  private change(edit: (c: Contents) => Contents): Promise<void> {
    const run = this.queue.then(async () => this.write(edit(await this.read())));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async read(): Promise<Contents> {
    let raw: string;
    try {
      raw = await fs.readFile(this.path, 'utf8');
    } catch {
      return { settings: { ...DEFAULT_SETTINGS }, profiles: [], sealedProfiles: null };
    }
    let file: z.infer<typeof FileSchema>;
    try {
      file = FileSchema.parse(JSON.parse(raw));
    } catch {
      // A damaged settings file must not stop the app: start from the defaults, keep the old file aside.
      await fs.rename(this.path, `${this.path}.damaged`).catch(() => undefined);
      return { settings: { ...DEFAULT_SETTINGS }, profiles: [], sealedProfiles: null };
    }
    let remembered: Settings['rememberedRepos'] = [];
    try {
      remembered = typeof file.rememberedRepos === 'string' ? (this.box ? SettingsSchema.shape.rememberedRepos.parse(JSON.parse(this.box.open(file.rememberedRepos))) : []) : file.rememberedRepos;
    } catch {
      // Sealed by a keychain entry that is gone or changed: the list is lost, the rest still loads.
    }
    let profiles: StoredProfile[] = [];
    let sealedProfiles: string | null = null;
    const stored = file.storageProfiles ?? [];
    if (typeof stored !== 'string') profiles = stored;
    else {
      try {
        if (!this.box) throw new Error('no keychain here');
        profiles = ProfilesSchema.parse(JSON.parse(this.box.open(stored)));
      } catch {
        sealedProfiles = stored;
      }
    }
    return { settings: { ...DEFAULT_SETTINGS, ...definedOnly(file.settings), rememberedRepos: remembered }, profiles, sealedProfiles };
  }

  private async write(c: Contents): Promise<void> {
    const { rememberedRepos, ...rest } = c.settings;
    const body = {
      settings: rest,
      rememberedRepos: this.box ? this.box.seal(JSON.stringify(rememberedRepos)) : rememberedRepos,
      storageProfiles: c.sealedProfiles ?? (this.box ? this.box.seal(JSON.stringify(c.profiles)) : c.profiles),
    };
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
