import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, CreateMultipartUploadCommand, ListMultipartUploadsCommand, S3Client } from '@aws-sdk/client-s3';
import { CancelledError } from '../../../src/core/errors.js';
import type { StorageBackend } from '../../../src/core/storage/backend.js';
import { openBackend } from '../../../src/core/storage/open.js';
import type { RetryPolicy } from '../../../src/core/storage/retry.js';
import { FaultProxy } from '../../helpers/fault-proxy.js';
import { conformance, id, listAll, rejectsKind } from './conformance.js';
import { radosgwSkip, startRadosgw, type Service } from './services.js';

const BUCKET = 'chatsafe-test';
const MiB = 1024 * 1024;
const FAST: RetryPolicy = { attempts: 6, baseDelayMs: 20, maxDelayMs: 200 };

let rgw: Service | undefined;
let admin: S3Client | undefined;
const prefixes = new WeakMap<StorageBackend, string>();

before(async () => {
  if (radosgwSkip) return;
  rgw = await startRadosgw();
  admin = new S3Client({
    endpoint: rgw.env.S3_ENDPOINT!, region: 'us-east-1', forcePathStyle: true,
    credentials: { accessKeyId: rgw.env.AWS_ACCESS_KEY_ID!, secretAccessKey: rgw.env.AWS_SECRET_ACCESS_KEY! },
  });
  await admin.send(new CreateBucketCommand({ Bucket: BUCKET }));
});
after(async () => {
  admin?.destroy();
  await rgw?.stop();
});

function open(endpoint: string, opts: { prefix?: string; bucket?: string; retry?: RetryPolicy; env?: Record<string, string>; timeoutMs?: number; signal?: AbortSignal } = {}): StorageBackend {
  const prefix = opts.prefix ?? `t/${id().slice(0, 16)}`;
  const b = openBackend(`s3://${opts.bucket ?? BUCKET}/${prefix}?endpoint=${encodeURIComponent(endpoint)}&region=us-east-1&pathStyle=1`, {
    env: opts.env ?? rgw!.env,
    retry: opts.retry ?? FAST,
    partSize: 5 * MiB,
    ...(opts.timeoutMs ? { requestTimeoutMs: opts.timeoutMs } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  prefixes.set(b, prefix);
  return b;
}

async function unfinishedUploads(b: StorageBackend): Promise<number> {
  const r = await admin!.send(new ListMultipartUploadsCommand({ Bucket: BUCKET, Prefix: `${prefixes.get(b)}/` }));
  return (r.Uploads ?? []).length;
}

conformance('S3 (radosgw)', () => ({
  fresh: async () => open(rgw!.env.S3_ENDPOINT!),
  makeDebris: async (b) => {
    await admin!.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: `${prefixes.get(b)}/data/ab/ab${id().slice(2)}` }));
  },
  countDebris: unfinishedUploads,
  largeSize: 12 * MiB,
}), radosgwSkip);

describe('S3 faults (through a fault-injecting proxy)', { skip: radosgwSkip }, () => {
  let proxy: FaultProxy;
  before(async () => {
    proxy = await FaultProxy.start(rgw!.env.S3_ENDPOINT!);
  });
  after(async () => {
    await proxy.close();
  });
  const isPut = (r: { method: string }) => r.method === 'PUT';

  async function created(opts: Parameters<typeof open>[1] = {}): Promise<StorageBackend> {
    const b = open(proxy.url, opts);
    await b.create();
    return b;
  }

  it('retries 500 and 503 answers and SlowDown, then succeeds', async () => {
    const b = await created();
    const n = id();
    const bytes = randomBytes(4000);
    const before = proxy.log.length;
    proxy.inject({ kind: 'status', status: 503, body: '<?xml version="1.0"?><Error><Code>SlowDown</Code></Error>', contentType: 'application/xml' }, { times: 2, match: isPut });
    proxy.inject({ kind: 'status', status: 500 }, { times: 1, match: isPut });
    await b.write('data', n, bytes);
    assert.equal(proxy.log.slice(before).filter((e) => e.method === 'PUT').length, 4);
    proxy.inject({ kind: 'status', status: 502 }, { times: 2, match: (r) => r.method === 'GET' });
    assert.deepEqual(await b.read('data', n), bytes);
    assert.equal(proxy.pending, 0);
    await b.close();
  });

  it('retries connection resets, before the server saw the request and after it answered', async () => {
    const b = await created();
    const n = id();
    const bytes = randomBytes(3000);
    proxy.inject({ kind: 'reset' }, { times: 2, match: isPut });
    await b.write('data', n, bytes);
    // The PUT lands but its answer is lost: the retry meets our own object and must not call it a conflict.
    const m = id();
    proxy.inject({ kind: 'reset-after-forward' }, { times: 1, match: isPut });
    await b.write('snapshots', m, bytes);
    assert.deepEqual(await b.read('snapshots', m), bytes);
    assert.deepEqual(await b.read('data', n), bytes);
    // A different object under the same name is still a conflict.
    await rejectsKind(b.write('snapshots', m, randomBytes(3000)), 'conflict');
    await b.close();
  });

  it('retries a read whose body is cut off midway', async () => {
    const b = await created();
    const n = id();
    const bytes = randomBytes(200_000);
    await b.write('data', n, bytes);
    proxy.inject({ kind: 'drop-mid-body' }, { times: 2, match: (r) => r.method === 'GET' });
    assert.deepEqual(await b.read('data', n), bytes);
    proxy.inject({ kind: 'drop-mid-body' }, { times: 1, match: (r) => r.method === 'GET' });
    assert.deepEqual(await b.read('data', n, { offset: 1000, length: 50_000 }), bytes.subarray(1000, 51_000));
    // Into a given buffer: the second attempt writes over what the first left there.
    proxy.inject({ kind: 'drop-mid-body' }, { times: 1, match: (r) => r.method === 'GET' });
    assert.deepEqual(await b.read('data', n, { offset: 500, length: 150_000 }, Buffer.alloc(150_000)), bytes.subarray(500, 150_500));
    await b.close();
  });

  it('times out a slow answer and tries again', async () => {
    const b = await created({ timeoutMs: 500 });
    const n = id();
    const bytes = randomBytes(1000);
    await b.write('index', n, bytes);
    proxy.inject({ kind: 'delay', ms: 1500 }, { times: 1, match: (r) => r.method === 'GET' });
    const t0 = Date.now();
    assert.deepEqual(await b.read('index', n), bytes);
    assert.ok(Date.now() - t0 >= 500, 'waited for the timeout');
    assert.ok(Date.now() - t0 < 1500, 'did not wait for the slow answer');
    await b.close();
  });

  it('completes a multipart upload whose parts and completion fail on the way', async () => {
    const b = await created();
    const n = id();
    const bytes = randomBytes(11 * MiB);
    proxy.inject({ kind: 'status', status: 503 }, { times: 2, match: (r) => r.method === 'PUT' && r.url.includes('partNumber=2') });
    proxy.inject({ kind: 'reset-after-forward' }, { times: 1, match: (r) => r.method === 'POST' && r.url.includes('uploadId=') });
    await b.write('data', n, bytes);
    assert.equal(proxy.pending, 0);
    assert.equal(createHash('sha256').update(await b.read('data', n)).digest('hex'), createHash('sha256').update(bytes).digest('hex'));
    assert.equal(await unfinishedUploads(b), 0);
    await b.close();
  });

  it('gives up after the retry budget with a clear error, leaving nothing visible', async () => {
    const b = await created({ retry: { attempts: 3, baseDelayMs: 10, maxDelayMs: 20 } });
    const n = id();
    proxy.inject({ kind: 'status', status: 503 }, { times: 3, match: isPut });
    const err = await rejectsKind(b.write('data', n, randomBytes(100)), 'io');
    assert.match(err.message, /kept failing.*503.*3 attempts/);
    assert.match(err.hint ?? '', /run the command again/i);
    assert.equal(await b.stat('data', n), null);
    await b.close();
  });

  it('fails fast on bad credentials, without retrying or showing secrets', async () => {
    const secret = 'not-the-right-secret-0123456789';
    const b = open(proxy.url, { env: { AWS_ACCESS_KEY_ID: rgw!.env.AWS_ACCESS_KEY_ID!, AWS_SECRET_ACCESS_KEY: secret } });
    const before = proxy.log.length;
    const err = await rejectsKind(b.read('config', 'config'), 'io');
    assert.equal(proxy.log.length - before, 1, 'one request, no retries');
    assert.match(err.message, /refused the credentials/);
    assert.match(err.hint ?? '', /AWS_ACCESS_KEY_ID/);
    for (const text of [err.message, err.hint ?? '', String((err as Error).cause), b.location]) {
      assert.ok(!text.includes(secret) && !text.includes(rgw!.env.AWS_ACCESS_KEY_ID!), 'no credential in messages');
    }
    await b.close();
  });

  it('fails fast on a missing bucket', async () => {
    const b = open(proxy.url, { bucket: 'no-such-bucket-here' });
    const err = await rejectsKind(b.create(), 'not-found');
    assert.match(err.message, /no-such-bucket-here does not exist/);
    assert.match(err.hint ?? '', /Create the bucket/);
    const err2 = await rejectsKind(b.read('config', 'config'), 'not-found');
    assert.match(err2.message, /bucket/);
    await b.close();
  });

  it('stops retrying when cancelled', async () => {
    const ac = new AbortController();
    const b = await created({ retry: { attempts: 50, baseDelayMs: 100, maxDelayMs: 100 }, signal: ac.signal });
    proxy.inject({ kind: 'status', status: 503 }, { times: 1000, match: isPut });
    setTimeout(() => ac.abort(), 300);
    await assert.rejects(b.write('data', id(), randomBytes(10)), CancelledError);
    proxy.clear();
    await b.close();
  });

  it('survives the gateway being killed and restarted during a multipart upload', async () => {
    const b = await created({ retry: { attempts: 14, baseDelayMs: 200, maxDelayMs: 2000 }, timeoutMs: 5000 });
    const n = id();
    const bytes = randomBytes(16 * MiB);
    // Slow the parts down so that the kill lands in the middle of the upload.
    proxy.inject({ kind: 'delay', ms: 400 }, { times: 4, match: (r) => r.method === 'PUT' && r.url.includes('partNumber=') });
    const writing = b.write('data', n, bytes);
    await new Promise((r) => setTimeout(r, 250));
    await rgw!.control('kill-gateway');
    await new Promise((r) => setTimeout(r, 1000));
    await rgw!.control('start-gateway');
    await writing;
    proxy.clear();
    assert.equal(createHash('sha256').update(await b.read('data', n)).digest('hex'), createHash('sha256').update(bytes).digest('hex'));
    await b.cleanup();
    assert.equal(await unfinishedUploads(b), 0);
    assert.deepEqual((await listAll(b, 'data')).map((o) => o.name), [n]);
    await b.close();
  });
});
