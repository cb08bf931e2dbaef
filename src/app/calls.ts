/**
 * The short (`call`) channels. They run on the router's thread, so each one
 * is quick or asynchronous I/O; anything that scans, chunks or imports is a
 * job instead. Requests arrive validated by the router.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { arch, homedir, platform } from 'node:os';
import { dirname, join, resolve, sep } from 'node:path';
import { readBundleInfo } from '../core/bundle/read.js';
import { exportHtml } from '../core/catalog/export-html.js';
import { ChatsafeError } from '../core/errors.js';
import { RootKey } from '../core/keys/root-key.js';
import { readHeader, Repository, unlockMasterKey } from '../core/repo/repository.js';
import { shortId, type SnapshotRecord } from '../core/repo/snapshot.js';
import { assessPassword } from '../core/vault/password-strength.js';
import { ROUTES } from '../core/vault/protocol.js';
import { APP_VERSION } from '../core/version.js';
import { bundleRepoHeader } from '../core/bundle/read.js';
import { addressOnly, isBundleFile, openStorage, toCredential, vaultUnlocker, type Destination } from './access.js';
import { readBundleSnapshot, withBundleCatalog } from './bundle-catalog.js';
import { CatalogView } from './catalog-view.js';
import type { CallChannel, HeaderInfo, RequestOf, ResponseOf, SnapshotInfo } from './contract.js';
import { diagnosticsReport } from './diagnostics.js';
import { appError } from './errors.js';
import { allowExternal } from './external-links.js';
import type { SessionRef } from './jobs/bodies.js';
import { createSampleExport } from './sample-data.js';
import { SettingsStore } from './settings-store.js';
import { destinationOf, profileIdOf } from './storage-profiles.js';
import { PROFILE_HANDLERS } from './profile-calls.js';

/** What only the desktop shell can do (native dialogs, the system browser); absent in web mode. */
export interface ShellHooks {
  openDialog(pick: 'file' | 'folder' | 'file-or-folder', title: string): Promise<string | null>;
  saveDialog(defaultName: string, title: string): Promise<string | null>;
  openExternal(url: string): Promise<void>;
  versions(): Record<string, string>;
  /** The bundle the OS last handed over, taken once (electron/open-file.ts). */
  takeOpenedFile(): string | null;
}

export interface AppContextOptions {
  readonly front: 'electron' | 'web';
  readonly settings: SettingsStore;
  readonly shell?: ShellHooks;
  /** Whether the settings store seals secrets with a keychain that protects them; default: in the 0600 file. */
  readonly secretStorage?: 'keychain' | 'file';
  /** Where repositories' merged indexes are kept between runs (see `index-cache.ts`); none when absent. */
  readonly indexCacheDir?: string | null;
}

interface Session extends SessionRef {
  readonly snapshots: SnapshotRecord[];
}

const MAX_SESSIONS = 16;
const MAX_LISTING = 5000;
/** Previews travel as base64 through IPC or HTTP; larger files are opened after a restore. */
const MAX_PREVIEW_BYTES = 20 * 1024 * 1024;

/** Only images are previewed inline (the page's CSP allows data: images and nothing else). */
function previewMime(declared: string | null, data: Buffer): string {
  const sniffed = data.subarray(0, 4).toString('hex');
  if (sniffed.startsWith('89504e47')) return 'image/png';
  if (sniffed.startsWith('ffd8ff')) return 'image/jpeg';
  if (sniffed.startsWith('47494638')) return 'image/gif';
  if (data.subarray(8, 12).toString('latin1') === 'WEBP') return 'image/webp';
  return declared && /^[a-z]+\/[a-z0-9.+-]{1,60}$/i.test(declared) && !/^image\/svg/i.test(declared) ? declared : 'application/octet-stream';
}

export function newId(): string {
  return randomBytes(16).toString('base64url');
}

/** State shared by the channels: unlocked backups and open catalogs, by id. */
export class AppContext {
  readonly sessions = new Map<string, Session>();
  readonly catalogs = new Map<string, { view: CatalogView; sessionId: string }>();
  readonly samples: string[] = [];
  constructor(readonly opts: AppContextOptions) {}

  /** What an address from the front opens: a `profile:ID` becomes the saved destination with its credentials. */
  async destination(address: string): Promise<Destination> {
    const id = profileIdOf(address);
    if (id === null) return addressOnly(address);
    const p = (await this.opts.settings.loadProfiles()).find((x) => x.id === id);
    if (!p) throw new ChatsafeError('not-found', 'That saved destination no longer exists.', 'Pick another one, or add it again in Settings.');
    return destinationOf(p);
  }

  session(id: string): Session {
    const s = this.sessions.get(id);
    if (!s) throw new ChatsafeError('not-found', 'That backup is no longer unlocked.', 'Unlock it again with the key or password.');
    return s;
  }

  catalog(id: string): CatalogView {
    const c = this.catalogs.get(id);
    if (!c) throw new ChatsafeError('not-found', 'That chat catalog is no longer open.', 'Open the snapshot again.');
    return c.view;
  }

  async closeSession(id: string): Promise<void> {
    for (const [cid, c] of this.catalogs) if (c.sessionId === id) await this.closeCatalog(cid);
    this.sessions.delete(id);
  }

  async closeCatalog(id: string): Promise<void> {
    const c = this.catalogs.get(id);
    this.catalogs.delete(id);
    await c?.view.close();
  }

  async dispose(): Promise<void> {
    for (const id of [...this.sessions.keys()]) await this.closeSession(id);
    for (const dir of this.samples) await fs.rm(dirname(dir), { recursive: true, force: true });
  }
}

export type Handler<C extends CallChannel> = (req: RequestOf<C>, ctx: AppContext) => Promise<ResponseOf<C>>;

function needShell(ctx: AppContext): ShellHooks {
  if (!ctx.opts.shell) throw new ChatsafeError('unsupported', 'Native dialogs exist only in the desktop app.', 'Use the file browser in this window.');
  return ctx.opts.shell;
}

function snapshotInfo(r: SnapshotRecord): SnapshotInfo {
  const s = r.snapshot;
  return { id: r.id, shortId: shortId(r.id), time: s.time, paths: s.paths, sourceKind: s.sourceKind, hasCatalog: s.catalog !== null, files: s.summary.files, bytes: s.summary.bytes };
}

export async function headerInfo(dest: Destination): Promise<HeaderInfo> {
  const address = dest.address;
  if (await isBundleFile(address)) {
    const info = await readBundleInfo(address);
    const h = info.header;
    return {
      kind: 'bundle',
      location: address,
      formatVersion: h.version,
      created: h.created,
      appVersion: h.appVersion,
      slotKinds: h.slots.map((s) => s.kind),
      vaultUrls: h.slots.flatMap((s) => (s.kind === 'password' ? [s.vault.url] : [])),
      sizes: { files: h.files, bytes: h.bytes, fileSize: info.fileSize, segments: info.segments },
    };
  }
  const backend = openStorage(dest);
  const { config, slots } = await readHeader(backend);
  const sizes: Record<string, number> = {};
  for (const kind of ['snapshots', 'index', 'data'] as const) {
    let count = 0;
    let bytes = 0;
    for await (const o of backend.list(kind)) {
      count++;
      bytes += o.size;
    }
    const name = kind === 'data' ? 'packs' : kind;
    sizes[name] = count;
    sizes[`${name}Bytes`] = bytes;
  }
  return {
    kind: 'repository',
    location: backend.location,
    formatVersion: config.version,
    created: config.created,
    appVersion: config.appVersion,
    slotKinds: slots.map((s) => s.kind),
    vaultUrls: slots.flatMap((s) => (s.kind === 'password' ? [s.vault.url] : [])),
    sizes,
  };
}

async function unlock(req: RequestOf<'repo.unlock'>, ctx: AppContext): Promise<ResponseOf<'repo.unlock'>> {
  if (ctx.sessions.size >= MAX_SESSIONS) throw new ChatsafeError('conflict', 'Too many backups are open.', 'Close one (Back to start) and try again.');
  const credential = toCredential(req.credential);
  let rootKey: RootKey;
  let snapshots: SnapshotRecord[];
  let kind: 'repository' | 'bundle';
  const dest = await ctx.destination(req.address);
  let address = dest.address;
  if (await isBundleFile(address)) {
    kind = 'bundle';
    const info = await readBundleInfo(address);
    const header = bundleRepoHeader(info);
    rootKey = await rootKeyFor(credential, header);
    // The manifest at the front of the bundle names its one snapshot (and authenticates the key once more).
    snapshots = [await readBundleSnapshot(address, { kind: 'key', key: rootKey })];
  } else {
    kind = 'repository';
    const backend = openStorage(dest);
    address = backend.location;
    const header = await readHeader(backend);
    rootKey = await rootKeyFor(credential, header);
    const repo = await Repository.open(backend, { kind: 'key', key: rootKey });
    snapshots = await repo.listSnapshots();
  }
  const sessionId = newId();
  ctx.sessions.set(sessionId, { address, credentials: dest.credentials, kind, keyHex: rootKey.use((b) => b.toString('hex')), snapshots });
  return { sessionId, kind, snapshots: snapshots.map(snapshotInfo) };
}

/** The root key behind a credential: the key itself (checked, with the one-digit suggestion), or the vault's answer. */
async function rootKeyFor(credential: ReturnType<typeof toCredential>, header: Awaited<ReturnType<typeof readHeader>>): Promise<RootKey> {
  if (credential.kind === 'key') {
    await unlockMasterKey(header, credential);
    return credential.key;
  }
  let found: RootKey | null = null;
  await unlockMasterKey(header, credential, async (slot, password) => (found = await vaultUnlocker(slot, password)));
  if (!found) throw new ChatsafeError('wrong-key', 'The password did not open this backup.', 'Check the password and try again.');
  return found;
}

async function listFolder(req: RequestOf<'fs.list'>): Promise<ResponseOf<'fs.list'>> {
  const path = resolve(req.path ?? homedir());
  let names;
  try {
    names = await fs.readdir(path, { withFileTypes: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ChatsafeError(code === 'ENOENT' ? 'not-found' : 'io', `Cannot open the folder ${path} (${code ?? 'error'}).`, 'Pick another folder.');
  }
  const visible = names.filter((d) => req.showHidden || !d.name.startsWith('.'));
  const entries = await Promise.all(
    visible.slice(0, MAX_LISTING).map(async (d) => {
      const st = await fs.stat(join(path, d.name)).catch(() => null);
      const kind = st?.isDirectory() ? ('dir' as const) : st?.isFile() ? ('file' as const) : ('other' as const);
      return { name: d.name, kind, size: kind === 'file' ? (st?.size ?? null) : null };
    }),
  );
  entries.sort((a, b) => (a.kind === 'dir' ? 0 : 1) - (b.kind === 'dir' ? 0 : 1) || a.name.localeCompare(b.name));
  const parent = dirname(path);
  return { path, parent: parent === path ? null : parent, entries, truncated: visible.length > MAX_LISTING };
}

async function storageCheck(req: RequestOf<'storage.check'>, ctx: AppContext): Promise<ResponseOf<'storage.check'>> {
  try {
    const dest = await ctx.destination(req.address);
    const backend = openStorage(dest);
    const existing = await readHeader(backend).then(
      () => true,
      (e: unknown) => {
        if (e instanceof ChatsafeError && e.kind === 'not-found') return false;
        throw e;
      },
    );
    if (req.purpose === 'existing') return existing ? { ok: true, message: 'A Chatsafe repository is there.' } : { ok: false, message: 'There is no Chatsafe repository there yet.' };
    if (existing) return { ok: false, message: 'A repository already exists there. Choose "add to an existing backup", or another place.' };
    if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(dest.address)) {
      const entries = await fs.readdir(backend.location).catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? [] : Promise.reject(e)));
      if (entries.length > 0) return { ok: false, message: 'That folder is not empty. Choose an empty or a new folder.' };
    }
    return { ok: true, message: 'Ready: a new repository will be created there.' };
  } catch (e) {
    const err = e instanceof ChatsafeError ? e : new ChatsafeError('io', 'That place cannot be reached.');
    return { ok: false, message: `${err.message}${err.hint ? ` ${err.hint}` : ''}` };
  }
}

async function vaultCheck(req: RequestOf<'vault.check'>): Promise<ResponseOf<'vault.check'>> {
  try {
    const res = await fetch(new URL(ROUTES.health, req.url), { signal: AbortSignal.timeout(5000) });
    return res.status < 500 ? { ok: true, message: 'The key vault answers.' } : { ok: false, message: `The key vault answered with an error (${res.status}).` };
  } catch {
    return { ok: false, message: 'No key vault answers at that address. Check the address and your connection.' };
  }
}

async function openCatalogOf(req: RequestOf<'catalog.open'>, ctx: AppContext): Promise<ResponseOf<'catalog.open'>> {
  const s = ctx.session(req.sessionId);
  const key = { kind: 'key' as const, key: RootKey.fromBytes(Buffer.from(s.keyHex, 'hex')) };
  let view: CatalogView;
  if (s.kind === 'bundle') {
    const only = s.snapshots[0];
    if (!only || (req.snapshot !== 'latest' && !only.id.startsWith(req.snapshot))) throw new ChatsafeError('not-found', 'A bundle holds one snapshot, and it is not that one.', 'Browse the snapshot the bundle lists.');
    view = await CatalogView.hold((use) => withBundleCatalog(s.address, key, use));
  } else {
    const repo = await Repository.open(openStorage(s), key);
    repo.useIndexCache(ctx.opts.indexCacheDir ?? null);
    view = await CatalogView.open(repo, await repo.findSnapshot(req.snapshot));
  }
  const catalogId = newId();
  ctx.catalogs.set(catalogId, { view, sessionId: req.sessionId });
  return { catalogId, chats: view.catalog.listChats(), counts: view.catalog.counts() };
}

async function exportChats(req: RequestOf<'catalog.exportHtml'>, ctx: AppContext): Promise<ResponseOf<'catalog.exportHtml'>> {
  const view = ctx.catalog(req.catalogId);
  const out = resolve(req.outDir);
  const r = await exportHtml(view.catalog, out, view.readMedia, req.chatIds ? { chatIds: req.chatIds } : {});
  return { path: out, chats: r.chats, files: r.files };
}

export const CALL_HANDLERS: { [C in Exclude<CallChannel, 'job.cancel'>]: Handler<C> } = {
  'app.info': async (_req, ctx) => ({
    appVersion: APP_VERSION,
    front: ctx.opts.front,
    versions: { chatsafe: APP_VERSION, node: process.versions.node, platform: `${platform()} ${arch()}`, ...(ctx.opts.shell?.versions() ?? {}) },
    home: homedir(),
    sep,
    secretStorage: ctx.opts.secretStorage ?? 'file',
  }),
  'app.openedFile': async (_req, ctx) => ({ path: ctx.opts.shell?.takeOpenedFile() ?? null }),
  'settings.get': async (_req, ctx) => ctx.opts.settings.load(),
  ...PROFILE_HANDLERS,
  'settings.set': async (req, ctx) => ctx.opts.settings.update(req),
  'fs.list': async (req) => listFolder(req),
  'dialog.open': async (req, ctx) => ({ path: await needShell(ctx).openDialog(req.pick, req.title) }),
  'dialog.save': async (req, ctx) => ({ path: await needShell(ctx).saveDialog(req.defaultName, req.title) }),
  'shell.openExternal': async (req, ctx) => {
    if (!allowExternal(req.url)) {
      throw appError('forbidden', 'That link is not one Chatsafe opens.', 'Copy the address into your browser yourself if you trust it.');
    }
    await needShell(ctx).openExternal(req.url);
    return { ok: true as const };
  },
  'key.generate': async () => ({ key: RootKey.generate().toDisplayString() }),
  'password.assess': async (req) => ({ ...assessPassword(req.password) }),
  'sample.create': async (_req, ctx) => {
    const path = await createSampleExport();
    ctx.samples.push(path);
    return { path };
  },
  'storage.check': storageCheck,
  'vault.check': async (req) => vaultCheck(req),
  'inspect.header': async (req, ctx) => headerInfo(await ctx.destination(req.address)),
  'repo.unlock': unlock,
  'session.close': async (req, ctx) => {
    await ctx.closeSession(req.sessionId);
    return { ok: true as const };
  },
  'catalog.open': openCatalogOf,
  'catalog.messages': async (req, ctx) => ctx.catalog(req.catalogId).window(req.chatId, req.offset, req.limit),
  'catalog.search': async (req, ctx) => ({ hits: ctx.catalog(req.catalogId).catalog.search(req.query, { limit: 200, ...(req.chatId !== undefined ? { chatId: req.chatId } : {}) }) }),
  'catalog.position': async (req, ctx) => ctx.catalog(req.catalogId).position(req.messageId),
  'catalog.media': async (req, ctx) => {
    const view = ctx.catalog(req.catalogId);
    const m = view.catalog.message(req.messageId);
    if (!m?.media) throw new ChatsafeError('not-found', 'That message has no media.', 'Pick a message with a picture or file.');
    if (m.media.path === null || (m.media.size ?? 0) > MAX_PREVIEW_BYTES) throw new ChatsafeError('not-found', 'This file is not in the backup, or is too large to preview.', 'Restore the snapshot to a folder to open it.');
    const data = await view.readMedia(m.media.path);
    if (!data || data.length > MAX_PREVIEW_BYTES) throw new ChatsafeError('not-found', 'This file is not in the backup, or is too large to preview.', 'Restore the snapshot to a folder to open it.');
    return { mime: previewMime(m.media.mime, data), dataBase64: data.toString('base64') };
  },
  'catalog.exportHtml': exportChats,
  'catalog.close': async (req, ctx) => {
    await ctx.closeCatalog(req.catalogId);
    return { ok: true as const };
  },
  'diagnostics.report': async (req, ctx) => ({ text: await diagnosticsReport(await ctx.destination(req.address), req.sessionId ? ctx.session(req.sessionId) : null, ctx) }),
};
