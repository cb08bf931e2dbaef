/**
 * What each job channel does, written against the core. These run inside a
 * job worker (job-worker.ts), never on the thread that serves the window, so
 * scanning, chunking and SQLite imports cannot freeze it. Requests arrive
 * already validated by the router; an unlocked repository arrives as its
 * address and root key (the session itself stays with the router).
 */
import { importAndBackup } from '../../core/backup/import-and-backup.js';
import { exportBundle } from '../../core/bundle/export.js';
import { checkBundle, restoreBundle } from '../../core/bundle/restore-bundle.js';
import { checkRepository, checkWithoutKey } from '../../core/check/check.js';
import { ChatsafeError, throwIfCancelled } from '../../core/errors.js';
import { detectSource } from '../../core/importers/detect.js';
import { growHeapsSlowly } from '../../core/jobs/heap-growth.js';
import type { ProgressListener } from '../../core/jobs/progress.js';
import { RootKey } from '../../core/keys/root-key.js';
import { Repository, type Credential } from '../../core/repo/repository.js';
import { restore } from '../../core/restore/restore.js';
import { applyRetention } from '../../core/retention/retention.js';
import { storeKeyInVault } from '../../core/vault/client.js';
import { addressOnly, isBundleFile, openStorage, toCredential, vaultUnlocker, type Destination } from '../access.js';
import type { JobChannel, RequestOf, ResponseOf } from '../contract.js';

/** An unlocked repository or bundle, as handed to a job. */
export interface SessionRef extends Destination {
  readonly kind: 'repository' | 'bundle';
  /** The root key, hex; it crosses only the in-process worker boundary. */
  readonly keyHex: string;
}

export interface JobContext {
  readonly signal: AbortSignal;
  readonly onProgress: ProgressListener;
  readonly session: SessionRef | null;
  /** The request's `address` as the router resolved it (a saved profile's, with its credentials). */
  readonly destination: Destination | null;
  /** Where repositories' merged indexes are kept between runs; null for none. */
  readonly indexCacheDir: string | null;
}

type Body<C extends JobChannel> = (req: RequestOf<C>, ctx: JobContext) => Promise<ResponseOf<C>>;

function sessionOf(ctx: JobContext): SessionRef {
  if (!ctx.session) throw new ChatsafeError('not-found', 'That backup is no longer unlocked.', 'Unlock it again with the key or password.');
  return ctx.session;
}

/** What the request's address opens. */
function destinationOf(address: string, ctx: JobContext): Destination {
  return ctx.destination ?? addressOnly(address);
}

function keyCredential(s: SessionRef): Credential {
  return { kind: 'key', key: RootKey.fromBytes(Buffer.from(s.keyHex, 'hex')) };
}

async function openSessionRepo(ctx: JobContext): Promise<Repository> {
  const s = sessionOf(ctx);
  if (s.kind !== 'repository') throw new ChatsafeError('usage', 'This works on a repository, not on a .chatsafe bundle.', 'Open the repository folder instead.');
  return withIndexCache(await Repository.open(openStorage(s, ctx.signal), keyCredential(s)), ctx);
}

/** The repository, keeping its merged index in the app's cache folder between jobs. */
function withIndexCache(repo: Repository, ctx: JobContext): Repository {
  repo.useIndexCache(ctx.indexCacheDir);
  return repo;
}

/** The unlocked repository, when it is the one the request names. */
async function openSessionRepoAt(address: string, ctx: JobContext): Promise<Repository> {
  if (openStorage(destinationOf(address, ctx)).location !== sessionOf(ctx).address) {
    throw new ChatsafeError('usage', 'The unlocked backup is not the one named in the request.', 'Unlock the backup you want to add to.');
  }
  return openSessionRepo(ctx);
}

async function createRepo(req: RequestOf<'backup'>, ctx: JobContext): Promise<Repository> {
  const backend = openStorage(destinationOf(req.address, ctx), ctx.signal);
  const p = req.protection!;
  if (p.kind === 'key') return Repository.init(backend, RootKey.parse(p.key));
  // Password mode: a fresh random K, kept by the vault behind the password.
  const k = RootKey.generate();
  const account = await k.use((bytes) => storeKeyInVault(p.vaultUrl, p.password, Buffer.from(bytes), { signal: ctx.signal }));
  throwIfCancelled(ctx.signal);
  return Repository.init(backend, k, { url: account.vaultUrl, accountId: account.accountId });
}

const backupBody: Body<'backup'> = async (req, ctx) => {
  growHeapsSlowly();
  const repo = withIndexCache(
    req.mode === 'create'
      ? await createRepo(req, ctx)
      : ctx.session
        ? await openSessionRepoAt(req.address, ctx)
        : await Repository.open(openStorage(destinationOf(req.address, ctx), ctx.signal), toCredential(req.protection!), vaultUnlocker),
    ctx,
  );
  const result = await importAndBackup(repo, { sources: req.sources, signal: ctx.signal, onProgress: ctx.onProgress });
  const retention = await applyRetention(repo, req.keepLast, { signal: ctx.signal, onProgress: ctx.onProgress });
  const s = result.snapshot.summary;
  return {
    snapshotId: result.id,
    files: s.files,
    bytes: s.bytes,
    storedBytes: s.storedBytes,
    newBytes: s.newBytes,
    chats: result.imported?.counts.chats ?? null,
    messages: result.imported?.counts.messages ?? null,
    forgotten: retention.forgotten.length,
    location: repo.backend.location,
  };
};

const detectBody: Body<'detect'> = async (req, ctx) => {
  const r = await detectSource(req.path, { signal: ctx.signal });
  return { kind: r.kind, label: r.label, summary: r.summary, path: r.path, counts: { ...r.counts }, totalFiles: r.totalFiles, totalBytes: r.totalBytes, problems: [...r.problems] };
};

const restoreBody: Body<'restore'> = async (req, ctx) => {
  growHeapsSlowly();
  const s = sessionOf(ctx);
  if (s.kind === 'bundle') {
    const r = await restoreBundle(s.address, keyCredential(s), req.target, { signal: ctx.signal, onProgress: ctx.onProgress });
    return { files: r.files, bytes: r.bytes, target: req.target };
  }
  const repo = await openSessionRepo(ctx);
  const snapshot = await repo.findSnapshot(req.snapshot);
  const r = await restore(repo, { snapshot, target: req.target, signal: ctx.signal, onProgress: ctx.onProgress });
  return { files: r.files, bytes: r.bytes, target: req.target };
};

const checkBody: Body<'check'> = async (req, ctx) => {
  const opts = { readData: req.readData, signal: ctx.signal, onProgress: ctx.onProgress };
  const s = ctx.session;
  const dest = destinationOf(req.address, ctx);
  const bundle = await isBundleFile(dest.address);
  // A session knows its repository by location (a saved destination's address resolves to the same one).
  if (s && s.address !== (bundle ? dest.address : openStorage(dest).location)) throw new ChatsafeError('usage', 'The unlocked backup is not the one to check.', 'Unlock the backup you want to check, or check it without the key.');
  const report = bundle
    ? await checkBundle(dest.address, s ? keyCredential(s) : null, { signal: ctx.signal })
    : s
      ? await checkRepository(await openSessionRepo(ctx), opts)
      : await checkWithoutKey(openStorage(dest, ctx.signal), opts);
  return { ...report, errors: [...report.errors], warnings: [...report.warnings], counts: { ...report.counts } };
};

const exportBody: Body<'export'> = async (req, ctx) => {
  const repo = await openSessionRepo(ctx);
  const snapshot = await repo.findSnapshot(req.snapshot);
  const r = await exportBundle(repo, snapshot, req.outPath, { signal: ctx.signal, onProgress: ctx.onProgress });
  return { path: req.outPath, bytes: r.bytes, files: r.files };
};

const pruneBody: Body<'prune'> = async (req, ctx) => {
  const repo = await openSessionRepo(ctx);
  const r = await applyRetention(repo, req.keepLast, { signal: ctx.signal, onProgress: ctx.onProgress });
  return { forgotten: r.forgotten.length, removedPacks: r.pruned?.packsDeleted ?? 0 };
};

export const JOB_BODIES: { [C in JobChannel]: Body<C> } = {
  detect: detectBody,
  backup: backupBody,
  restore: restoreBody,
  check: checkBody,
  export: exportBody,
  prune: pruneBody,
};
