import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { AuthType, createClient, type FileStat, type WebDAVClient } from 'webdav';
import { CancelledError } from '../../../src/core/errors.js';
import type { StorageBackend } from '../../../src/core/storage/backend.js';
import { openBackend } from '../../../src/core/storage/open.js';
import type { RetryPolicy } from '../../../src/core/storage/retry.js';
import { FaultProxy } from '../../helpers/fault-proxy.js';
import { conformance, id, listAll, rejectsKind } from './conformance.js';
import { startWebDav, webdavSkip, type Service } from './services.js';

const MiB = 1024 * 1024;
const FAST: RetryPolicy = { attempts: 6, baseDelayMs: 20, maxDelayMs: 200 };

let dav: Service | undefined;
let direct: WebDAVClient | undefined;
const paths = new WeakMap<StorageBackend, string>();

before(async () => {
  if (webdavSkip) return;
  dav = await startWebDav();
  direct = createClient(dav.env.WEBDAV_URL!, { authType: AuthType.Password, username: dav.env.CHATSAFE_WEBDAV_USER!, password: dav.env.CHATSAFE_WEBDAV_PASSWORD! });
});
after(async () => {
  await dav?.stop();
});

/** The repository at /dav/t/<random>/repo on the server, reached directly or through `base` (a proxy). */
function open(base?: string, opts: { retry?: RetryPolicy; env?: Record<string, string>; timeoutMs?: number; signal?: AbortSignal } = {}): StorageBackend {
  const path = `/t/${id().slice(0, 16)}/repo`;
  const url = new URL(dav!.env.WEBDAV_URL!);
  const origin = base ?? url.origin;
  const b = openBackend(`webdav+${origin}${url.pathname}${path}`, {
    env: opts.env ?? dav!.env,
    retry: opts.retry ?? FAST,
    ...(opts.timeoutMs ? { requestTimeoutMs: opts.timeoutMs } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  paths.set(b, path);
  return b;
}

/** Temporary files anywhere under the repository (walked folder by folder: servers refuse Depth: infinity). */
async function tmpFiles(b: StorageBackend, dir = paths.get(b)!): Promise<number> {
  let n = 0;
  for (const f of (await direct!.getDirectoryContents(dir)) as FileStat[]) {
    if (f.type === 'directory') n += await tmpFiles(b, `${dir}/${f.basename}`);
    else if (f.basename.startsWith('.tmp-')) n++;
  }
  return n;
}

conformance('WebDAV (Apache mod_dav)', () => ({
  fresh: async () => open(),
  makeDebris: async (b) => {
    const dir = `${paths.get(b)!}/data/ab`;
    await direct!.createDirectory(dir, { recursive: true });
    await direct!.putFileContents(`${dir}/.tmp-ab${id().slice(2)}-0a0b0c`, Buffer.from('half'));
    await direct!.putFileContents(`${paths.get(b)!}/keys/.tmp-${id()}-0a0b0c`, Buffer.from('half'));
  },
  countDebris: tmpFiles,
  largeSize: 12 * MiB,
}), webdavSkip);

describe('WebDAV folders made by several writers at once', { skip: webdavSkip }, () => {
  it('packs whose names start alike, written together into a new repository, all arrive', async () => {
    // Apache answers the second of two MKCOLs racing for one folder 403; that must not fail a write.
    const b = open();
    await b.create();
    const names = Array.from({ length: 64 }, (_, i) => `${(i % 8).toString(16).padStart(2, '0')}${id().slice(2)}`);
    await Promise.all(names.map((name) => b.write('data', name, [Buffer.from(name)])));
    assert.deepEqual((await listAll(b, 'data')).map((o) => o.name).sort(), [...names].sort());
  });
});

describe('WebDAV faults (through a fault-injecting proxy)', { skip: webdavSkip }, () => {
  let proxy: FaultProxy;
  before(async () => {
    proxy = await FaultProxy.start(new URL(dav!.env.WEBDAV_URL!).origin);
  });
  after(async () => {
    await proxy.close();
  });
  const method = (m: string) => (r: { method: string }) => r.method === m;

  async function created(opts: Parameters<typeof open>[1] = {}): Promise<StorageBackend> {
    const b = open(proxy.url, opts);
    await b.create();
    return b;
  }

  it('retries 500 and 503 answers, then succeeds', async () => {
    const b = await created();
    const n = id();
    const bytes = randomBytes(5000);
    proxy.inject({ kind: 'status', status: 503 }, { times: 2, match: method('PUT') });
    proxy.inject({ kind: 'status', status: 500 }, { times: 1, match: method('MOVE') });
    await b.write('data', n, bytes);
    proxy.inject({ kind: 'status', status: 504 }, { times: 2, match: method('GET') });
    assert.deepEqual(await b.read('data', n), bytes);
    assert.equal(proxy.pending, 0);
    await b.close();
  });

  it('retries resets, including a MOVE that landed with its answer lost', async () => {
    const b = await created();
    const n = id();
    const bytes = randomBytes(5000);
    proxy.inject({ kind: 'reset' }, { times: 1, match: method('PUT') });
    proxy.inject({ kind: 'reset-after-forward' }, { times: 1, match: method('MOVE') });
    await b.write('snapshots', n, bytes);
    assert.equal(proxy.pending, 0);
    assert.deepEqual(await b.read('snapshots', n), bytes);
    await rejectsKind(b.write('snapshots', n, randomBytes(5000)), 'conflict');
    assert.equal(await tmpFiles(b), 0, 'the refused upload left no temporary file');
    await b.close();
  });

  it('retries a read whose body is cut off, and a slow answer', async () => {
    const b = await created({ timeoutMs: 500 });
    const n = id();
    const bytes = randomBytes(300_000);
    await b.write('data', n, bytes);
    proxy.inject({ kind: 'drop-mid-body' }, { times: 2, match: method('GET') });
    assert.deepEqual(await b.read('data', n, { offset: 7, length: 200_000 }), bytes.subarray(7, 200_007));
    // Into a given buffer: the second attempt writes over what the first left there.
    proxy.inject({ kind: 'drop-mid-body' }, { times: 1, match: method('GET') });
    assert.deepEqual(await b.read('data', n, { offset: 500, length: 150_000 }, Buffer.alloc(150_000)), bytes.subarray(500, 150_500));
    proxy.inject({ kind: 'delay', ms: 2500 }, { times: 1, match: method('GET') });
    const t0 = Date.now();
    assert.deepEqual(await b.read('data', n), bytes);
    assert.ok(Date.now() - t0 < 2500, 'did not wait for the slow answer');
    await b.close();
  });

  it('fails fast on bad credentials without showing them', async () => {
    const password = 'wrong-password-0123456789';
    const b = open(proxy.url, { env: { CHATSAFE_WEBDAV_USER: 'chatsafe', CHATSAFE_WEBDAV_PASSWORD: password } });
    const before = proxy.log.length;
    const err = await rejectsKind(b.create(), 'io');
    assert.equal(proxy.log.length - before, 1, 'one request, no retries');
    assert.match(err.message, /refused the credentials/);
    assert.match(err.hint ?? '', /CHATSAFE_WEBDAV_USER/);
    for (const text of [err.message, err.hint ?? '', String(err.cause), b.location]) assert.ok(!text.includes(password));
    await b.close();
  });

  it('gives up after the retry budget, and stops when cancelled', async () => {
    const b = await created({ retry: { attempts: 3, baseDelayMs: 10, maxDelayMs: 20 } });
    const n = id();
    proxy.inject({ kind: 'status', status: 502 }, { times: 3, match: method('PUT') });
    const err = await rejectsKind(b.write('index', n, randomBytes(10)), 'io');
    assert.match(err.message, /kept failing.*502.*3 attempts/);
    assert.equal(await b.stat('index', n), null);
    const ac = new AbortController();
    const c = await created({ retry: { attempts: 50, baseDelayMs: 100, maxDelayMs: 100 }, signal: ac.signal });
    proxy.inject({ kind: 'status', status: 503 }, { times: 1000, match: method('PUT') });
    setTimeout(() => ac.abort(), 300);
    await assert.rejects(c.write('index', id(), randomBytes(10)), CancelledError);
    proxy.clear();
    await b.close();
    await c.close();
  });

  it('survives the server being killed and restarted during an upload', async () => {
    const b = await created({ retry: { attempts: 12, baseDelayMs: 200, maxDelayMs: 2000 }, timeoutMs: 5000 });
    const n = id();
    const bytes = randomBytes(8 * MiB);
    proxy.inject({ kind: 'delay', ms: 600 }, { times: 1, match: method('PUT') });
    const writing = b.write('data', n, bytes);
    await new Promise((r) => setTimeout(r, 200));
    await dav!.control('kill');
    await new Promise((r) => setTimeout(r, 800));
    await dav!.control('start-again');
    await writing;
    assert.equal(createHash('sha256').update(await b.read('data', n)).digest('hex'), createHash('sha256').update(bytes).digest('hex'));
    await b.cleanup();
    assert.equal(await tmpFiles(b), 0);
    assert.deepEqual((await listAll(b, 'data')).map((o) => o.name), [n]);
    await b.close();
  });
});
