import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AppErrorSchema } from '../../src/app/contract.js';
import { startWebServer, type WebServer } from '../../src/app/http/server.js';
import { Router } from '../../src/app/router.js';
import { SettingsStore } from '../../src/app/settings-store.js';
import { malformedRequests } from './malformed.js';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** Raw HTTP, so the tests can send what a browser never would (bad Host, no Origin, traversal paths). */
function send(port: number, method: string, path: string, headers: Record<string, string>, body?: string | Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers, setHost: !('Host' in headers) }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function typedError(a: Answer): { kind: string; message: string } {
  const parsed = JSON.parse(a.body) as { ok: boolean; error: unknown };
  assert.equal(parsed.ok, false);
  assert.ok(AppErrorSchema.safeParse(parsed.error).success, `typed error: ${a.body.slice(0, 200)}`);
  return parsed.error as { kind: string; message: string };
}

describe('local web mode server', () => {
  let dir: string;
  let web: WebServer;
  let router: Router;
  let api: Record<string, string>;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'chatsafe-web-'));
    const rendererDir = join(dir, 'renderer');
    mkdirSync(join(rendererDir, 'assets'), { recursive: true });
    writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><html><head><title>t</title></head><body></body></html>');
    writeFileSync(join(rendererDir, 'assets', 'app.js'), 'console.log(1)');
    writeFileSync(join(dir, 'secret.txt'), 'outside the renderer');
    router = new Router({ front: 'web', settings: new SettingsStore(join(dir, 'settings.json')) });
    web = await startWebServer({ router, rendererDir });
    api = { 'Content-Type': 'application/json', 'X-Chatsafe-Token': web.token, Origin: web.origin };
  });
  after(async () => {
    await web.close();
    await router.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  test('listens on 127.0.0.1 only, with a long random token', () => {
    const address = web.server.address();
    assert.ok(typeof address === 'object' && address?.address === '127.0.0.1');
    assert.ok(web.token.length >= 40);
  });

  test('the launch URL trades the token for a strict HttpOnly cookie; the page needs it', async () => {
    const launch = await send(web.port, 'GET', `/?token=${web.token}`, {});
    assert.equal(launch.status, 303);
    const cookie = String(launch.headers['set-cookie']);
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Strict/);
    const bad = await send(web.port, 'GET', '/?token=wrong', {});
    assert.equal(bad.status, 403);
    assert.equal((await send(web.port, 'GET', '/', {})).status, 403, 'no cookie, no page');
    const page = await send(web.port, 'GET', '/', { Cookie: cookie.split(';')[0]! });
    assert.equal(page.status, 200);
    assert.match(page.body, new RegExp(`<meta name="chatsafe-token" content="${web.token}">`));
    assert.match(String(page.headers['content-security-policy']), /default-src 'none'; script-src 'self'/);
    assert.equal(page.headers['x-frame-options'], 'DENY');
  });

  test('Host must name this server (DNS rebinding)', async () => {
    const r = await send(web.port, 'POST', '/api/call/app.info', { ...api, Host: `evil.example:${web.port}` }, '{}');
    assert.equal(r.status, 421);
    assert.equal(typedError(r).kind, 'forbidden');
  });

  test('API requests need the token header, our Origin and JSON', async () => {
    const ok = await send(web.port, 'POST', '/api/call/app.info', api, '{}');
    assert.equal(ok.status, 200);
    const cases: Array<[Record<string, string>, number]> = [
      [{ ...api, 'X-Chatsafe-Token': '' }, 403],
      [{ ...api, 'X-Chatsafe-Token': `${web.token.slice(0, -1)}x` }, 403],
      [{ 'Content-Type': 'application/json', Origin: web.origin }, 403],
      [{ ...api, Origin: 'http://evil.example' }, 403],
      [{ ...api, Origin: 'null' }, 403],
      [{ 'Content-Type': 'application/json', 'X-Chatsafe-Token': web.token }, 403],
      [{ ...api, 'Content-Type': 'text/plain' }, 415],
    ];
    for (const [headers, status] of cases) {
      const r = await send(web.port, 'POST', '/api/call/app.info', headers, '{}');
      assert.equal(r.status, status, JSON.stringify(headers));
      typedError(r);
    }
    assert.equal((await send(web.port, 'GET', '/api/call/app.info', api)).status, 405);
  });

  test('static files cannot be read from outside the renderer folder', async () => {
    const cookie = { Cookie: `chatsafe_token=${web.token}` };
    assert.equal((await send(web.port, 'GET', '/assets/app.js', cookie)).status, 200);
    for (const path of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt', '/assets/%2e%2e%2f%2e%2e%2fsecret.txt', '/%00', '/..%5csecret.txt', '/%E0%A4%A', '/assets/missing.js']) {
      const r = await send(web.port, 'GET', path, cookie);
      assert.ok(r.status >= 400 || !r.body.includes('outside the renderer'), `${path} → ${r.status}`);
      assert.ok(!r.body.includes('outside the renderer'), path);
    }
  });

  test('jobs answer as server-sent events ending in one result', async () => {
    const src = join(dir, 'src');
    mkdirSync(src);
    writeFileSync(join(src, 'notes.txt'), 'not a chat');
    const r = await send(web.port, 'POST', '/api/job/detect', api, JSON.stringify({ jobId: 'job-dddddddddd', request: { path: src } }));
    assert.equal(r.status, 200);
    assert.match(String(r.headers['content-type']), /^text\/event-stream/);
    const result = /event: result\ndata: (.*)\n\n$/.exec(r.body);
    assert.ok(result, r.body);
    const value = JSON.parse(result[1]!) as { ok: boolean; value: { kind: string; totalFiles: number } };
    assert.equal(value.ok, true);
    assert.equal(value.value.totalFiles, 1);
  });

  test('1,000 malformed requests over HTTP are all refused with typed errors', async () => {
    let n = 0;
    for (const m of malformedRequests(1000, 4242)) {
      const name = typeof m.channel === 'string' ? m.channel : String(m.channel);
      const kind = name === 'detect' || name === 'backup' || name === 'restore' || name === 'check' || name === 'export' || name === 'prune' ? 'job' : 'call';
      const body = n % 25 === 0 ? '{"truncated": ' : n % 40 === 0 ? Buffer.alloc(64, 0xff) : (JSON.stringify(m.payload) ?? 'null');
      const r = await send(web.port, 'POST', `/api/${kind}/${encodeURIComponent(name).slice(0, 400)}`, api, body);
      assert.ok(r.status >= 400 && r.status < 500, `${m.what} on ${name}: ${r.status} ${r.body.slice(0, 200)}`);
      const e = typedError(r);
      assert.ok(['usage', 'not-found'].includes(e.kind), `${m.what}: ${e.kind}`);
      assert.doesNotMatch(r.body, /\\n\s+at |node:internal/);
      n++;
    }
    assert.equal(n, 1000);
    const big = await send(web.port, 'POST', '/api/call/app.info', api, Buffer.alloc(2 * 1024 * 1024, 0x20));
    assert.equal(big.status, 400);
    assert.equal((await send(web.port, 'POST', '/api/call/app.info', api, '{}')).status, 200, 'still serving');
    assert.equal(router.jobs.size, 0);
  });
});
