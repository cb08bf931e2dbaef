/**
 * Repository locks keep writers apart. A lock is a sealed object under
 * `locks/` with a random name; taking one means writing ours, then listing:
 * if anyone else's live lock conflicts, ours is removed and we fail (an
 * exclusive lock conflicts with every other lock). This needs no atomic
 * create-if-absent, so it works the same on object storage. A lock whose
 * process is gone (same host, pid not running) or that was not refreshed for
 * STALE_AFTER_MS is stale and removed.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { ChatsafeError } from '../errors.js';
import { isIntIn, isRecord, isStringUpTo, Malformed, rejectUnknownKeys, validatorOf, type JsonValidator } from './json-shape.js';
import type { Repository } from './repository.js';
import { META_LABELS, openJson, sealJson } from './sealed-json.js';

export const STALE_AFTER_MS = 30 * 60 * 1000;
const REFRESH_EVERY_MS = 5 * 60 * 1000;

export interface LockBody {
  v: 1;
  exclusive: boolean;
  host: string;
  pid: number;
  /** ISO times, only ever shown or compared with `Date.parse`. */
  created: string;
  refreshed: string;
}

const MAX_HOST = 255;
const LOCK_KEYS: ReadonlySet<string> = new Set(['v', 'exclusive', 'host', 'pid', 'created', 'refreshed']);

/** Strict; exported for its tests. */
export const LockSchema: JsonValidator<LockBody> = validatorOf((json) => {
  if (!isRecord(json)) throw new Malformed([], 'expected an object');
  if (json.v !== 1) throw new Malformed(['v'], 'expected 1');
  if (typeof json.exclusive !== 'boolean') throw new Malformed(['exclusive'], 'expected true or false');
  if (!isStringUpTo(json.host, MAX_HOST)) throw new Malformed(['host'], `expected a string of at most ${MAX_HOST} characters`);
  if (!isIntIn(json.pid, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER)) throw new Malformed(['pid'], 'expected an integer');
  if (typeof json.created !== 'string') throw new Malformed(['created'], 'expected a string');
  if (typeof json.refreshed !== 'string') throw new Malformed(['refreshed'], 'expected a string');
  rejectUnknownKeys(json, 6, LOCK_KEYS, []);
  return { v: 1, exclusive: json.exclusive, host: json.host, pid: json.pid, created: json.created, refreshed: json.refreshed };
});

export class RepoLock {
  private timer: NodeJS.Timeout | null = null;
  private constructor(
    private readonly repo: Repository,
    readonly name: string,
    private body: LockBody,
  ) {}

  static async acquire(repo: Repository, exclusive: boolean): Promise<RepoLock> {
    const now = new Date().toISOString();
    const body: LockBody = { v: 1, exclusive, host: hostname(), pid: process.pid, created: now, refreshed: now };
    const name = randomBytes(16).toString('hex');
    await repo.backend.write('locks', name, sealJson(repo.keys.meta, META_LABELS.lock, body).bytes);
    const lock = new RepoLock(repo, name, body);
    try {
      const others = await listLiveLocks(repo, name);
      const conflict = others.find((o) => exclusive || o.body.exclusive);
      if (conflict) {
        const who = conflict.body.host === hostname() ? `process ${conflict.body.pid} on this computer` : `another computer`;
        throw new ChatsafeError(
          'conflict',
          `The repository is in use by ${who} since ${conflict.body.created}.`,
          `Wait for it to finish and try again. If it crashed, its lock expires ${Math.round(STALE_AFTER_MS / 60000)} minutes after its last sign of life, or run \`chatsafe unlock\`.`,
        );
      }
    } catch (e) {
      await repo.backend.remove('locks', name).catch(() => undefined);
      throw e;
    }
    lock.timer = setInterval(() => void lock.refresh().catch(() => undefined), REFRESH_EVERY_MS);
    lock.timer.unref();
    return lock;
  }

  private async refresh(): Promise<void> {
    this.body = { ...this.body, refreshed: new Date().toISOString() };
    await this.repo.backend.write('locks', this.name, sealJson(this.repo.keys.meta, META_LABELS.lock, this.body).bytes);
  }

  async release(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.repo.backend.remove('locks', this.name);
  }
}

async function listLiveLocks(repo: Repository, except: string): Promise<{ name: string; body: LockBody }[]> {
  const live: { name: string; body: LockBody }[] = [];
  for await (const info of repo.backend.list('locks')) {
    if (info.name === except) continue;
    let body: LockBody;
    try {
      body = openJson(repo.keys.meta, META_LABELS.lock, await repo.backend.read('locks', info.name), `locks/${info.name}`, LockSchema);
    } catch (e) {
      if (e instanceof ChatsafeError && e.kind === 'not-found') continue; // released meanwhile
      // A lock that cannot be read might be another run's exclusive one: never ignored, but the
      // way out is `unlock`, not the check of the data that an integrity error points to.
      if (e instanceof ChatsafeError && e.kind === 'integrity') {
        throw new ChatsafeError(
          'conflict',
          `The repository has a lock that cannot be read (locks/${info.name}: damaged), so another run may be using it.`,
          'If no other Chatsafe is using this repository now, run `chatsafe unlock` to remove the lock, then try again.',
        );
      }
      throw e;
    }
    if (isStale(body)) {
      await repo.backend.remove('locks', info.name);
      continue;
    }
    live.push({ name: info.name, body });
  }
  return live;
}

function isStale(body: LockBody): boolean {
  if (Date.now() - Date.parse(body.refreshed) > STALE_AFTER_MS) return true;
  if (body.host !== hostname()) return false;
  try {
    process.kill(body.pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Removes every lock (the user's explicit `chatsafe unlock`, after a crash on another computer). */
export async function removeAllLocks(repo: Repository): Promise<number> {
  let n = 0;
  for await (const info of repo.backend.list('locks')) {
    await repo.backend.remove('locks', info.name);
    n++;
  }
  return n;
}

/**
 * Runs `fn` holding a lock. A run that only reads (`exclusive` false) goes on without one where the
 * lock cannot be written because the repository is read-only to this user (a backup on a read-only
 * mount or disc, or another user's folder): a shared lock only keeps a prune from removing what the
 * run reads, and a prune needs the same write access. Everything read is authenticated, so a prune
 * by someone who may write would make the run fail, never return wrong data.
 */
export async function withLock<T>(repo: Repository, exclusive: boolean, fn: () => Promise<T>): Promise<T> {
  let lock: RepoLock | null = null;
  try {
    lock = await RepoLock.acquire(repo, exclusive);
  } catch (e) {
    if (exclusive || !isReadOnlyStorage(e)) throw e;
  }
  try {
    return await fn();
  } finally {
    await lock?.release().catch(() => undefined);
  }
}

const READ_ONLY_CODES: ReadonlySet<string | undefined> = new Set(['EROFS', 'EACCES', 'EPERM']);

function isReadOnlyStorage(e: unknown): boolean {
  return e instanceof ChatsafeError && e.kind === 'io' && READ_ONLY_CODES.has((e.cause as NodeJS.ErrnoException | undefined)?.code);
}
