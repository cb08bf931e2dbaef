/**
 * Storage on a WebDAV server (Nextcloud, ownCloud, Apache mod_dav, nginx dav).
 * Same layout as the local folder under the address's path:
 *   PATH/config, PATH/keys/<id>, PATH/data/<first two digits>/<id>, ...
 *
 * How the contract is met:
 * - Atomic: each object is uploaded to a temporary name beside its target
 *   (`.tmp-<name>-<random>`) and then renamed with MOVE. Readers never see a
 *   half-uploaded object; an interrupted upload leaves only temporary debris,
 *   which `cleanup` deletes and listings skip.
 * - Immutable: MOVE carries `Overwrite: F`, so the server refuses (412) to
 *   replace an existing object, atomically on its side. Locks move with
 *   `Overwrite: T`.
 * - Folders are created with MKCOL when first needed (a PUT into a missing
 *   folder answers 409).
 * - Durable: as durable as the server makes a completed MOVE; Apache and
 *   Nextcloud write to their disk before answering.
 * - Retries (retry.ts): a MOVE retried after a lost answer finds its source
 *   gone and the target present; the target's bytes are compared with ours
 *   before the write is declared done.
 * Basic authentication sends the password with each request, so plain http
 * is refused except to this machine (or when explicitly allowed).
 */
import { randomBytes } from 'node:crypto';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { AuthType, createClient, type FileStat, type WebDAVClient } from 'webdav';
import { ChatsafeError } from '../errors.js';
import { assertObjectName, isObjectName, MAX_OBJECT_BYTES, OBJECT_KINDS, oversizedObject, totalLength, type ByteRange, type ObjectInfo, type ObjectKind, type StorageBackend } from './backend.js';
import { assertRange, conflictError, notFoundError, readBodyInto, readBodyIntoParts, scatterInto, transportError } from './common.js';
import { DEFAULT_RETRY, networkCode, withRetry, type FailureFacts, type RetryPolicy } from './retry.js';

export interface WebDavSettings {
  /** http(s)://host[:port]/path of the repository folder, without credentials. */
  readonly url: string;
  readonly username: string;
  readonly password: string;
  /** Plain http to another machine sends the password in clear; only with this set. */
  readonly allowInsecureHttp?: boolean;
}

export interface WebDavTuning {
  readonly retry?: RetryPolicy;
  /** Base time allowed for one request; uploads and downloads get more in proportion to their size. */
  readonly requestTimeoutMs?: number;
  readonly signal?: AbortSignal;
}

const TMP_MARK = '.tmp-';
/** Slowest link we wait for before calling a transfer stuck: 64 KiB/s on top of the base timeout. */
const MIN_BYTES_PER_SECOND = 64 * 1024;
const CREDENTIAL_HINT = 'CHATSAFE_WEBDAV_USER and CHATSAFE_WEBDAV_PASSWORD (or the `webdav` entry of the credentials file)';

export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h);
}

export class WebDavBackend implements StorageBackend {
  readonly location: string;
  private readonly client: WebDAVClient;
  /** Decoded path of the repository folder on the server, `/a/b`, or '' for the server's root. */
  private readonly root: string;
  private readonly policy: RetryPolicy;
  private readonly timeoutMs: number;
  private readonly signal: AbortSignal | undefined;
  private readonly agents: { httpAgent: HttpAgent; httpsAgent: HttpsAgent };

  constructor(settings: WebDavSettings, tuning: WebDavTuning = {}) {
    const url = new URL(settings.url);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ChatsafeError('usage', `WebDAV needs an http(s) address, not ${url.protocol}`);
    if (url.username || url.password) {
      throw new ChatsafeError('usage', 'The WebDAV address must not contain a user name or password.',
        'Remove them from the address and set CHATSAFE_WEBDAV_USER and CHATSAFE_WEBDAV_PASSWORD, or use a credentials file.');
    }
    if (url.protocol === 'http:' && !isLoopbackHost(url.hostname) && !settings.allowInsecureHttp) {
      throw new ChatsafeError('usage', `Refusing plain http to ${url.host}: the WebDAV password would travel unencrypted.`,
        'Use webdav+https://, or set CHATSAFE_ALLOW_INSECURE_HTTP=1 if this network is trusted.');
    }
    const segments = url.pathname.split('/').filter((s) => s !== '').map((s) => decodeURIComponent(s));
    if (segments.some((s) => s === '.' || s === '..' || s.includes('/'))) throw new ChatsafeError('usage', 'The WebDAV path must not contain "." or ".." segments.');
    this.root = segments.map((s) => `/${s}`).join('');
    const shown = `${url.protocol}//${url.host}${this.root || '/'}`;
    this.location = `webdav+${shown}`;
    this.policy = tuning.retry ?? DEFAULT_RETRY;
    this.timeoutMs = tuning.requestTimeoutMs ?? 60_000;
    this.signal = tuning.signal;
    this.agents = { httpAgent: new HttpAgent({ keepAlive: true }), httpsAgent: new HttpsAgent({ keepAlive: true }) };
    this.client = createClient(url.origin, {
      authType: AuthType.Password,
      username: settings.username,
      password: settings.password,
      ...this.agents,
    });
  }

  private dirOf(kind: ObjectKind, name: string): string {
    if (kind === 'config') return this.root;
    return kind === 'data' ? `${this.root}/data/${name.slice(0, 2)}` : `${this.root}/${kind}`;
  }

  private pathOf(kind: ObjectKind, name: string): string {
    assertObjectName(kind, name);
    return `${this.dirOf(kind, name)}/${name}`;
  }

  private retry<T>(doing: string, op: (attempt: number) => Promise<T>): Promise<T> {
    return withRetry(op, {
      policy: this.policy,
      signal: this.signal,
      facts: davFacts,
      context: { location: this.location, doing, credentialHint: CREDENTIAL_HINT },
    });
  }

  /** Request options: the caller's signal, plus a timeout that grows with the bytes to move. */
  private opts(bytes = 0, headers?: Record<string, string>): { signal: AbortSignal; headers?: Record<string, string> } {
    const timeout = AbortSignal.timeout(this.timeoutMs + Math.ceil((bytes / MIN_BYTES_PER_SECOND) * 1000));
    const signal = this.signal ? AbortSignal.any([this.signal, timeout]) : timeout;
    return headers ? { signal, headers } : { signal };
  }

  async create(): Promise<void> {
    const children = await this.children(this.root, 'opening the repository folder');
    if (children?.some((c) => c.basename === 'config')) {
      throw new ChatsafeError('conflict', `A repository already exists at ${this.location}.`, 'Choose an empty folder, or use the existing repository.');
    }
    if (children && children.length > 0) {
      throw new ChatsafeError('conflict', `${this.location} is not empty.`, 'Choose an empty or new folder for the repository.');
    }
    await this.makeFolders(this.root);
    for (const kind of OBJECT_KINDS) if (kind !== 'config') await this.makeFolders(`${this.root}/${kind}`);
  }

  /** MKCOL `dir` and, when the server says a parent is missing (409), the parents first. */
  private async makeFolders(dir: string): Promise<void> {
    if (dir === '') return;
    const made = await this.retry(`creating the folder ${dir}`, async () => {
      try {
        await this.client.customRequest(dir, { method: 'MKCOL', ...this.opts() });
        return true;
      } catch (e) {
        const status = davFacts(e).status;
        if (status === 405) return true; // already there
        if (status === 409) return false;
        // Two writers making the same folder at once (packs whose names start alike): Apache's
        // mod_dav answers the one that comes second 403, not 405. The folder being there settles it.
        if (status === 403 && (await this.isFolder(dir))) return true;
        throw e;
      }
    });
    if (!made) {
      await this.makeFolders(dir.slice(0, dir.lastIndexOf('/')));
      await this.makeFolders(dir);
    }
  }

  /** Whether `dir` is a folder; a failure other than 404 is thrown, for the caller's retry to judge. */
  private async isFolder(dir: string): Promise<boolean> {
    try {
      return ((await this.client.stat(dir, this.opts())) as FileStat).type === 'directory';
    } catch (e) {
      if (davFacts(e).status === 404) return false;
      throw e;
    }
  }

  async stat(kind: ObjectKind, name: string): Promise<ObjectInfo | null> {
    const path = this.pathOf(kind, name);
    return this.retry(`reading ${kind}/${name}`, async () => {
      try {
        const r = await this.client.customRequest(path, { method: 'HEAD', ...this.opts() });
        return { name, size: Number(r.headers.get('content-length') ?? 0) };
      } catch (e) {
        if (davFacts(e).status === 404) return null;
        throw e;
      }
    });
  }

  /** The entries of a folder, or null when it does not exist. */
  private async children(dir: string, doing: string): Promise<FileStat[] | null> {
    return this.retry(doing, async () => {
      try {
        return await this.client.getDirectoryContents(dir || '/', this.opts());
      } catch (e) {
        if (davFacts(e).status === 404) return null;
        throw e;
      }
    });
  }

  async *list(kind: ObjectKind): AsyncIterable<ObjectInfo> {
    if (kind === 'config') {
      const st = await this.stat('config', 'config');
      if (st) yield st;
      return;
    }
    const doing = `listing ${kind}`;
    const top = `${this.root}/${kind}`;
    const dirs = kind === 'data'
      ? ((await this.children(top, doing)) ?? []).filter((c) => c.type === 'directory' && /^[0-9a-f]{2}$/.test(c.basename)).map((c) => `${top}/${c.basename}`)
      : [top];
    for (const dir of dirs.sort()) {
      for (const c of (await this.children(dir, doing)) ?? []) {
        if (c.type === 'file' && isObjectName(kind, c.basename) && (kind !== 'data' || dir.endsWith(`/${c.basename.slice(0, 2)}`))) {
          yield { name: c.basename, size: c.size };
        }
      }
    }
  }

  async read(kind: ObjectKind, name: string, range?: ByteRange, into?: Buffer): Promise<Buffer> {
    if (range) assertRange(range);
    if (range?.length === 0) {
      if (!(await this.stat(kind, name))) throw notFoundError(kind, name);
      return Buffer.alloc(0);
    }
    return this.retry(`reading ${kind}/${name}`, async () => {
      const r = await this.get(kind, name, range);
      if (!r) return Buffer.alloc(0);
      if (range && into && into.length >= range.length && r.ranged) return readBodyInto(r.ranged, into.subarray(0, range.length), r.announced);
      if (!range && r.announced !== undefined && r.announced > MAX_OBJECT_BYTES[kind]) throw oversizedObject(kind, name, r.announced);
      return r.whole();
    });
  }

  async readParts(kind: ObjectKind, name: string, offset: number, parts: readonly Buffer[]): Promise<number> {
    const range = { offset, length: totalLength(parts) };
    assertRange(range);
    if (range.length === 0) return (await this.read(kind, name, range)).length;
    return this.retry(`reading ${kind}/${name}`, async () => {
      const r = await this.get(kind, name, range);
      if (!r) return 0;
      if (r.ranged) return readBodyIntoParts(r.ranged, parts, r.announced);
      return scatterInto(await r.whole(), parts);
    });
  }

  /**
   * One GET of an object or a range of it: the bytes asked for, whole, and where the server sent
   * just the range, its body as a stream to read instead; null when the range starts at or past the
   * end (a short read).
   */
  private async get(kind: ObjectKind, name: string, range?: ByteRange): Promise<{ ranged: AsyncIterable<Uint8Array> | null; announced: number | undefined; whole: () => Promise<Buffer> } | null> {
    const headers = range ? { Range: `bytes=${range.offset}-${range.offset + range.length - 1}` } : undefined;
    let r;
    try {
      r = await this.client.customRequest(this.pathOf(kind, name), { method: 'GET', ...this.opts(range?.length ?? 0, headers) });
    } catch (e) {
      const status = davFacts(e).status;
      if (status === 404) throw notFoundError(kind, name);
      if (status === 416) return null;
      throw e;
    }
    const header = r.headers.get('content-length');
    const announced = header === null ? undefined : Number(header);
    // The client's response type leaves out the body stream its fetch gives (node-fetch's, or Node's own).
    const body = (r as unknown as { body?: AsyncIterable<Uint8Array> | null }).body;
    return {
      ranged: range && r.status === 206 && body ? body : null,
      announced,
      whole: async () => {
        const buf = Buffer.from(await r.arrayBuffer());
        if (announced !== undefined && announced !== buf.length) throw transportError('TruncatedBody');
        // A server that ignores Range answers 200 with everything: cut our part out.
        if (range && r.status === 200) return buf.subarray(range.offset, range.offset + range.length);
        return buf;
      },
    };
  }

  async write(kind: ObjectKind, name: string, data: Buffer | readonly Buffer[]): Promise<void> {
    const target = this.pathOf(kind, name);
    const dir = this.dirOf(kind, name);
    const body = Buffer.isBuffer(data) ? data : Buffer.concat(data as Buffer[], totalLength(data));
    const immutable = kind !== 'locks';
    const doing = `writing ${kind}/${name}`;
    if (immutable && (await this.stat(kind, name))) throw conflictError(kind, name);
    const tmp = `${dir}/${TMP_MARK}${name}-${randomBytes(6).toString('hex')}`;
    await this.upload(tmp, dir, body, doing);
    const moved = await this.retry(doing, async (attempt) => {
      try {
        await this.client.moveFile(tmp, target, { overwrite: !immutable, ...this.opts() });
        return true;
      } catch (e) {
        const status = davFacts(e).status;
        // On a retry, our earlier MOVE may have landed with its answer lost: the source is gone (404),
        // or it is still there and the target exists (412). Only identical bytes count as ours.
        if (attempt > 1 && (status === 404 || status === 412) && (await this.holds(target, body, doing))) return true;
        if (status === 412 && immutable) return false;
        throw e;
      }
    }).catch(async (e: unknown) => {
      await this.deleteQuietly(tmp);
      throw e;
    });
    if (!moved) {
      await this.deleteQuietly(tmp);
      throw conflictError(kind, name);
    }
  }

  /** PUT to a temporary name, creating the folder when the server says it is missing. */
  private async upload(path: string, dir: string, body: Buffer, doing: string): Promise<void> {
    const put = () => this.client.customRequest(path, {
      method: 'PUT',
      data: body,
      ...this.opts(body.length, { 'Content-Type': 'application/octet-stream', 'Content-Length': String(body.length) }),
    });
    await this.retry(doing, async () => {
      try {
        await put();
      } catch (e) {
        if (davFacts(e).status !== 409) throw e;
        await this.makeFolders(dir);
        await put();
      }
    });
  }

  /** Whether `path` holds exactly `body` (used only to recognise our own write after a lost answer). */
  private async holds(path: string, body: Buffer, doing: string): Promise<boolean> {
    return this.retry(doing, async () => {
      try {
        const r = await this.client.customRequest(path, { method: 'GET', ...this.opts(body.length) });
        return Buffer.from(await r.arrayBuffer()).equals(body);
      } catch (e) {
        if (davFacts(e).status === 404) return false;
        throw e;
      }
    });
  }

  private async deleteQuietly(path: string): Promise<void> {
    await this.client.customRequest(path, { method: 'DELETE', ...this.opts() }).catch(() => undefined);
  }

  async remove(kind: ObjectKind, name: string): Promise<void> {
    const path = this.pathOf(kind, name);
    await this.retry(`removing ${kind}/${name}`, async () => {
      try {
        await this.client.customRequest(path, { method: 'DELETE', ...this.opts() });
      } catch (e) {
        if (davFacts(e).status !== 404) throw e;
      }
    });
  }

  /** Deletes the temporary files that interrupted uploads left behind. */
  async cleanup(): Promise<void> {
    const dirs = [this.root, ...OBJECT_KINDS.filter((k) => k !== 'config').map((k) => `${this.root}/${k}`)];
    for (const c of (await this.children(`${this.root}/data`, 'cleaning up')) ?? []) {
      if (c.type === 'directory') dirs.push(`${this.root}/data/${c.basename}`);
    }
    for (const dir of dirs) {
      for (const c of (await this.children(dir, 'cleaning up')) ?? []) {
        if (c.type !== 'file' || !c.basename.startsWith(TMP_MARK)) continue;
        await this.retry('cleaning up', async () => {
          try {
            await this.client.customRequest(`${dir}/${c.basename}`, { method: 'DELETE', ...this.opts() });
          } catch (e) {
            if (davFacts(e).status !== 404) throw e;
          }
        });
      }
    }
  }

  async close(): Promise<void> {
    this.agents.httpAgent.destroy();
    this.agents.httpsAgent.destroy();
  }
}

function davFacts(e: unknown): FailureFacts {
  const err = e as { status?: unknown; response?: { status?: unknown }; name?: unknown };
  const status = typeof err?.status === 'number' ? err.status : typeof err?.response?.status === 'number' ? err.response.status : undefined;
  // Our per-request timeout aborts the fetch; the caller's own abort is checked before this is asked.
  const code = err?.name === 'AbortError' || err?.name === 'TimeoutError' ? 'TimeoutError' : networkCode(e);
  return { ...(status !== undefined ? { status } : {}), ...(code !== undefined ? { code } : {}) };
}
