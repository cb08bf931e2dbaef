/**
 * Hostile input against a real vault process: malformed, oversized, wrongly
 * typed and random messages get 4xx answers and the server stays up; rate
 * limits answer 429; TLS works with a private CA; bad command lines are
 * refused with usage errors.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { request } from 'node:http';
import { fetchKeyFromVault, storeKeyInVault } from '../../src/core/vault/client.js';
import { isChatsafeError } from '../../src/core/errors.js';
import { MAX_REQUEST_BYTES, ROUTES } from '../../src/core/vault/protocol.js';
import { HEALTH_MAX_AGE_MS } from '../../src/vault-server/service.js';
import { CLI_BIN } from '../helpers/fixtures.js';
import { post, rawLoginStart, rawRegister } from './raw-protocol.js';
import { Services, SKIP_HSM, type VaultNode } from './services.js';

const OPTS = { testOnlyWeakKeyStretching: true };
const POST_ROUTES = Object.values(ROUTES).filter((r) => r !== ROUTES.health);

/** Random JSON-ish values of every shape, for the fuzz loop. */
function randomValue(depth = 0): unknown {
  switch (randomInt(9)) {
    case 0:
      return null;
    case 1:
      return randomInt(-1e9, 1e9);
    case 2:
      return randomBytes(randomInt(0, 80)).toString('base64url');
    case 3:
      return 'x'.repeat(randomInt(0, 3000));
    case 4:
      return depth < 3 ? Array.from({ length: randomInt(4) }, () => randomValue(depth + 1)) : [];
    case 5:
      return depth < 3 ? { a: randomValue(depth + 1), accountId: randomValue(depth + 1) } : {};
    case 6:
      return randomBytes(16).toString('hex');
    case 7:
      return randomBytes(32).toString('base64url');
    default:
      return '\u0000\ud800<script>';
  }
}

describe('key vault under hostile input', { skip: SKIP_HSM }, () => {
  let svc: Services;
  let node: VaultNode;

  before(async () => {
    svc = new Services();
    node = await svc.startNode(join(svc.dir, 'vault.db'), ['--rate-ip', '0', '--rate-account', '0']);
  });
  after(async () => {
    await svc?.stop();
  });

  test('malformed, mistyped and unknown requests get 4xx answers naming the problem', async () => {
    const cases: [string, unknown, Record<string, string> | undefined, number][] = [
      [ROUTES.loginStart, '{not json', undefined, 400],
      [ROUTES.loginStart, '', undefined, 400],
      [ROUTES.loginStart, { accountId: 'zz', startLoginRequest: 'AAAA' }, undefined, 400],
      [ROUTES.loginStart, { accountId: randomBytes(16).toString('hex'), startLoginRequest: 'AAAA', extra: 1 }, undefined, 400],
      [ROUTES.registerStart, { registrationRequest: randomBytes(32).toString('base64url'), keyStretching: 'none' }, undefined, 400],
      // 32 bytes of 0xff are never a valid (canonical) ristretto255 point, unlike random bytes, which sometimes are
      [ROUTES.registerStart, { registrationRequest: Buffer.alloc(32, 0xff).toString('base64url'), keyStretching: 'test-only-weak' }, undefined, 400],
      [ROUTES.registerStart, [1, 2, 3], undefined, 400],
      [ROUTES.loginStart, { accountId: randomBytes(16).toString('hex'), startLoginRequest: randomBytes(96).toString('base64url') }, { 'content-type': 'text/plain' }, 415],
      ['/v1/nothing-here', {}, undefined, 404],
    ];
    for (const [path, body, headers, status] of cases) {
      const r = await post(node.url, path, body, headers);
      assert.equal(r.status, status, `${path} ${JSON.stringify(body).slice(0, 80)}`);
      assert.equal(typeof r.json.error, 'string');
      assert.equal(typeof r.json.message, 'string');
    }
    const get = await fetch(node.url + ROUTES.loginStart);
    assert.equal(get.status, 405);
    // an unknown account is a 404, not a crash, and does not reveal anything else
    const unknown = await rawLoginStart(node.url, randomBytes(16).toString('hex'), 'whatever password');
    assert.equal(unknown.start.status, 404);
  });

  test('oversized requests are refused with 413 before being read whole', async () => {
    const big = await post(node.url, ROUTES.loginStart, JSON.stringify({ accountId: 'a'.repeat(MAX_REQUEST_BYTES * 4) }));
    assert.equal(big.status, 413);
    // a body that lies about its size: chunked, no content-length
    const status = await new Promise<number>((resolve, reject) => {
      const url = new URL(node.url + ROUTES.loginStart);
      const req = request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      for (let i = 0; i < 8; i++) req.write('x'.repeat(MAX_REQUEST_BYTES));
      req.end();
    });
    assert.equal(status, 413);
    assert.equal((await fetch(node.url + ROUTES.health)).status, 200);
  });

  test('a fuzz loop of random bodies on every route never gets a 5xx nor stops the server', async () => {
    const acc = await rawRegister(node.url, 'fuzzing is good for you', randomBytes(32));
    for (let i = 0; i < 400; i++) {
      const path = POST_ROUTES[randomInt(POST_ROUTES.length)]!;
      const body: Record<string, unknown> = { accountId: randomInt(2) ? acc.accountId : randomValue() };
      for (const field of ['ticket', 'attemptId', 'grant', 'registrationRequest', 'startLoginRequest', 'finishLoginRequest', 'registrationRecord', 'sealedKey', 'keyStretching']) {
        if (randomInt(2)) body[field] = randomValue();
      }
      const r = await post(node.url, path, randomInt(10) === 0 ? randomBytes(randomInt(1, 200)) : body);
      assert.ok(r.status >= 200 && r.status < 500, `${path} answered ${r.status}: ${JSON.stringify(r.json).slice(0, 200)}`);
    }
    assert.ok(node.alive);
    assert.equal((await fetch(node.url + ROUTES.health)).status, 200);
    assert.doesNotMatch(node.log(), /"level":"error"/);
  });

  test('per-IP and per-account rate limits answer 429 with Retry-After', async () => {
    const limited = await svc.startNode(join(svc.dir, 'limited.db'), ['--rate-ip', '8', '--rate-account', '3'], 'limited');
    const accountId = randomBytes(16).toString('hex');
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await rawLoginStart(limited.url, accountId, 'pw')).start.status);
    assert.deepEqual(statuses, [404, 404, 404, 429, 429]);
    const ipStatuses: number[] = [];
    for (let i = 0; i < 5; i++) ipStatuses.push((await rawLoginStart(limited.url, randomBytes(16).toString('hex'), 'pw')).start.status);
    assert.ok(ipStatuses.includes(429), `per-IP limit reached: ${ipStatuses.join(',')}`);
    const res = await fetch(limited.url + ROUTES.loginStart, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(res.status, 429);
    assert.ok(Number(res.headers.get('retry-after')) >= 1);
    await limited.stop();
  });

  test('healthz stays up for an address that is rate-limited, and polling it checks the store and the HSM at most once per few seconds', async () => {
    const polled = await svc.startNode(join(svc.dir, 'health.db'), ['--rate-ip', '2'], 'health');
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await rawLoginStart(polled.url, randomBytes(16).toString('hex'), 'pw')).start.status);
    assert.equal(statuses.at(-1), 429);
    const poll = async () => {
      const res = await fetch(polled.url + ROUTES.health);
      return { status: res.status, body: (await res.json()) as { status: string; checkedAt: string } };
    };
    const answers = await Promise.all(Array.from({ length: 40 }, poll));
    for (const a of answers) assert.deepEqual([a.status, a.body.status], [200, 'ok']);
    const checks = [...new Set(answers.map((a) => a.body.checkedAt))].sort();
    assert.ok(checks.length >= 1 && checks.length <= 2, `40 polls, ${checks.length} checks`);
    for (const c of checks) assert.ok(!Number.isNaN(Date.parse(c)), c);
    // an answer is never older than the period: the next poll after it checks again
    await new Promise((r) => setTimeout(r, HEALTH_MAX_AGE_MS + 200));
    const later = await poll();
    assert.equal(later.status, 200);
    assert.ok(later.body.checkedAt > checks.at(-1)!, `${later.body.checkedAt} after ${checks.at(-1)}`);
    await polled.stop();
  });

  test('TLS: the client trusts a private CA when told to, and refuses the certificate otherwise', async () => {
    const cert = join(svc.dir, 'cert.pem');
    const key = join(svc.dir, 'key.pem');
    const gen = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert], { encoding: 'utf8' });
    assert.equal(gen.status, 0, gen.stderr);
    const tls = await svc.startNode(join(svc.dir, 'tls.db'), ['--tls-cert', cert, '--tls-key', key], 'tls');
    assert.match(tls.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const rootKey = randomBytes(32);
    const account = await storeKeyInVault(tls.url, 'a strong enough passphrase', rootKey, { ...OPTS, caCertPath: cert });
    assert.deepEqual(await fetchKeyFromVault(account, 'a strong enough passphrase', { ...OPTS, caCertPath: cert }), rootKey);
    await assert.rejects(fetchKeyFromVault(account, 'a strong enough passphrase', OPTS), (e) => isChatsafeError(e) && e.kind === 'io' && /Cannot reach the key vault/.test(e.message) && !!e.hint);
    await tls.stop();
  });

  test('the client refuses the test-only key stretching unless told it is under test', async () => {
    const account = await storeKeyInVault(node.url, 'another decent passphrase', randomBytes(32), OPTS);
    await assert.rejects(fetchKeyFromVault(account, 'another decent passphrase', {}), (e) => isChatsafeError(e) && e.kind === 'unsupported');
  });

  test('an unreachable vault is an io error with a hint; weak passwords are refused before contacting it', async () => {
    await assert.rejects(fetchKeyFromVault({ vaultUrl: 'http://127.0.0.1:1', accountId: randomBytes(16).toString('hex') }, 'pw', OPTS), (e) => isChatsafeError(e) && e.kind === 'io' && /Check the network/.test(e.hint ?? ''));
    await assert.rejects(storeKeyInVault('http://127.0.0.1:1', 'password1', randomBytes(32), OPTS), (e) => isChatsafeError(e) && e.kind === 'usage');
  });

  test('bad command lines are usage errors (exit 2) with a hint', () => {
    const run = (...args: string[]) => spawnSync(process.execPath, [CLI_BIN, 'vault', ...args], { encoding: 'utf8' });
    const noKey = run('serve', '--db', join(svc.dir, 'x.db'));
    assert.equal(noKey.status, 2);
    assert.match(noKey.stderr, /HSM/);
    assert.equal(run('serve', '--insecure-dev-master-key', join(svc.dir, 'k'), '--listen', 'nowhere').status, 2);
    assert.equal(run('serve', '--insecure-dev-master-key', join(svc.dir, 'k'), '--max-attempts', '0').status, 2);
    assert.equal(run('serve', '--insecure-dev-master-key', join(svc.dir, 'k'), '--tls-cert', 'c.pem').status, 2);
    assert.equal(run('frobnicate').status, 2);
    assert.equal(run('serve', '--help').status, 0);
  });
});
