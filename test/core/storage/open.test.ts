import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { ChatsafeError } from '../../../src/core/errors.js';
import { LocalFolderBackend } from '../../../src/core/storage/local-folder.js';
import { openBackend } from '../../../src/core/storage/open.js';
import { backoffDelay, isTransient, withRetry } from '../../../src/core/storage/retry.js';
import { S3Backend } from '../../../src/core/storage/s3.js';
import { WebDavBackend } from '../../../src/core/storage/webdav.js';

const dir = mkdtempSync(join(tmpdir(), 'chatsafe-open-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const S3_ENV = { AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret-value-that-must-not-leak' };
const DAV_ENV = { CHATSAFE_WEBDAV_USER: 'me', CHATSAFE_WEBDAV_PASSWORD: 'password-that-must-not-leak' };

function usage(fn: () => unknown, pattern: RegExp): ChatsafeError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ChatsafeError && e.kind === 'usage', `expected a usage error, got ${String(e)}`);
    assert.match(e.message, pattern);
    return e;
  }
  assert.fail('expected a usage error');
}

describe('openBackend: addresses', () => {
  it('opens plain paths as local folders', () => {
    const b = openBackend('some/relative/repo', { env: {} });
    assert.ok(b instanceof LocalFolderBackend);
    assert.equal(b.location, resolve('some/relative/repo'));
  });

  it('opens s3:// addresses, showing no secret in the location', () => {
    const b = openBackend('s3://my-bucket/backups/phone?endpoint=http://127.0.0.1:9000&region=eu-west-1', { env: S3_ENV });
    assert.ok(b instanceof S3Backend);
    assert.equal(b.location, 's3://my-bucket/backups/phone at http://127.0.0.1:9000');
    assert.ok(!b.location.includes('AKID'));
  });

  it('opens webdav+https and loopback webdav+http addresses', () => {
    const b = openBackend('webdav+https://cloud.example.org/remote.php/dav/files/me/chatsafe', { env: DAV_ENV });
    assert.ok(b instanceof WebDavBackend);
    assert.equal(b.location, 'webdav+https://cloud.example.org/remote.php/dav/files/me/chatsafe');
    assert.ok(openBackend('webdav+http://127.0.0.1:8080/dav', { env: DAV_ENV }) instanceof WebDavBackend);
    assert.ok(openBackend('webdav+http://[::1]:8080/dav', { env: DAV_ENV }) instanceof WebDavBackend);
  });

  it('refuses plain http to another machine unless explicitly allowed', () => {
    usage(() => openBackend('webdav+http://nas.local/dav', { env: DAV_ENV }), /password would travel unencrypted/);
    assert.ok(openBackend('webdav+http://nas.local/dav', { env: { ...DAV_ENV, CHATSAFE_ALLOW_INSECURE_HTTP: '1' } }) instanceof WebDavBackend);
  });

  it('refuses credentials inside the address, without repeating them', () => {
    for (const a of ['s3://AKID:topsecret@my-bucket/x', 'webdav+https://me:topsecret@host/dav', 's3://my-bucket/x?endpoint=http://u:topsecret@127.0.0.1:9000']) {
      const e = usage(() => openBackend(a, { env: { ...S3_ENV, ...DAV_ENV } }), /must not contain a user name/);
      assert.ok(!e.message.includes('topsecret') && !(e.hint ?? '').includes('topsecret'));
    }
  });

  it('rejects malformed addresses with clear errors', () => {
    usage(() => openBackend('', { env: {} }), /empty or malformed/);
    usage(() => openBackend('ftp://host/x', { env: {} }), /Unknown kind of repository address: ftp/);
    usage(() => openBackend('s3://Bad_Bucket/x', { env: S3_ENV }), /Not a valid S3 bucket name/);
    usage(() => openBackend('s3://my-bucket/../x', { env: S3_ENV }), /"\.\." path segments/);
    usage(() => openBackend('webdav+https://host/dav/%2e%2e/etc', { env: DAV_ENV }), /"\.\." path segments/);
    usage(() => openBackend('s3://my-bucket/x?endpont=http://h', { env: S3_ENV }), /Unknown option/);
    usage(() => openBackend('s3://my-bucket/x?endpoint=file:///etc', { env: S3_ENV }), /endpoint must be http/);
    usage(() => openBackend('s3://my-bucket/x?pathStyle=yes', { env: S3_ENV }), /pathStyle/);
    usage(() => openBackend('s3://my-bucket:9000/x', { env: S3_ENV }), /endpoint=URL/);
    usage(() => openBackend('webdav+https://host/dav?x=1', { env: DAV_ENV }), /no \?options/);
  });
});

describe('openBackend: credentials', () => {
  it('asks for credentials when there are none', () => {
    usage(() => openBackend('s3://my-bucket/x', { env: {} }), /No S3 credentials/);
    usage(() => openBackend('webdav+https://host/dav', { env: {} }), /No WebDAV credentials/);
  });

  it('reads a credentials file only its owner may read', () => {
    const file = join(dir, 'creds.json');
    writeFileSync(file, JSON.stringify({ s3: { accessKeyId: 'AKIDFILE', secretAccessKey: 'file-secret' }, webdav: { user: 'u', password: 'p' } }));
    chmodSync(file, 0o644);
    if (process.platform !== 'win32') {
      const e = usage(() => openBackend('s3://my-bucket/x', { env: {}, configFile: file }), /may be read by other users/);
      assert.match(e.hint ?? '', /chmod 600/);
    }
    chmodSync(file, 0o600);
    assert.ok(openBackend('s3://my-bucket/x', { env: {}, configFile: file }) instanceof S3Backend);
    assert.ok(openBackend('webdav+https://host/dav', { env: {}, configFile: file }) instanceof WebDavBackend);
  });

  it('rejects a damaged credentials file without quoting it', () => {
    const file = join(dir, 'bad.json');
    writeFileSync(file, '{"s3": {"accessKeyId": "AKID", "secretAccessKey": "leaky-secret",', { mode: 0o600 });
    const e = usage(() => openBackend('s3://my-bucket/x', { env: {}, configFile: file }), /not valid JSON/);
    assert.ok(!e.message.includes('leaky-secret'));
    writeFileSync(file, JSON.stringify({ s3: { accessKeyId: 'AKID', secret: 'leaky-secret' } }), { mode: 0o600 });
    const e2 = usage(() => openBackend('s3://my-bucket/x', { env: {}, configFile: file }), /unexpected or missing entries: s3/);
    assert.ok(!e2.message.includes('leaky-secret'));
    usage(() => openBackend('s3://my-bucket/x', { env: {}, configFile: join(dir, 'missing.json') }), /Cannot read the credentials file/);
  });
});

describe('retry policy', () => {
  it('classifies transient and permanent failures', () => {
    for (const f of [{ status: 500 }, { status: 503 }, { status: 504 }, { code: 'ECONNRESET' }, { code: 'SlowDown', status: 503 }, { code: 'TimeoutError' }]) assert.ok(isTransient(f), JSON.stringify(f));
    for (const f of [{ status: 403 }, { status: 404, code: 'NoSuchBucket' }, { status: 507 }, { status: 400 }, {}]) assert.ok(!isTransient(f), JSON.stringify(f));
  });

  it('backs off exponentially with jitter, within the cap', () => {
    const p = { attempts: 10, baseDelayMs: 100, maxDelayMs: 1000 };
    for (let i = 0; i < 50; i++) {
      const d1 = backoffDelay(p, 1);
      const d3 = backoffDelay(p, 3);
      const d9 = backoffDelay(p, 9);
      assert.ok(d1 >= 50 && d1 <= 100);
      assert.ok(d3 >= 200 && d3 <= 400);
      assert.ok(d9 >= 500 && d9 <= 1000);
    }
  });

  it('stops at the first permanent failure and after the last transient one', async () => {
    const ctx = { location: 'test', doing: 'testing', credentialHint: 'the test credentials' };
    let calls = 0;
    const err403 = Object.assign(new Error('x'), { status: 403 });
    await assert.rejects(withRetry(async () => { calls++; throw err403; }, { policy: { attempts: 5, baseDelayMs: 1, maxDelayMs: 1 }, facts: (e) => ({ status: (e as { status: number }).status }), context: ctx }),
      (e: unknown) => e instanceof ChatsafeError && /refused the credentials/.test(e.message));
    assert.equal(calls, 1);
    calls = 0;
    await assert.rejects(withRetry(async () => { calls++; throw new Error('busy'); }, { policy: { attempts: 4, baseDelayMs: 1, maxDelayMs: 1 }, facts: () => ({ status: 503 }), context: ctx }),
      (e: unknown) => e instanceof ChatsafeError && /4 attempts/.test(e.message));
    assert.equal(calls, 4);
    calls = 0;
    assert.equal(await withRetry(async (n) => { calls++; if (n < 3) throw new Error('reset'); return 'done'; }, { policy: { attempts: 4, baseDelayMs: 1, maxDelayMs: 1 }, facts: () => ({ code: 'ECONNRESET' }), context: ctx }), 'done');
    assert.equal(calls, 3);
  });
});
