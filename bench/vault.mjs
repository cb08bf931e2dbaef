#!/usr/bin/env node
// Key vault benchmark: OPAQUE logins per second the vault sustains, and login
// latency (p50/p99) with 100 concurrent clients, on SQLite and on PostgreSQL,
// with the master key in a real SoftHSM2 token.
//
//   npm run bench:vault [-- --seconds 15 --clients 100 --stores sqlite,postgres]
//
// Client work is kept out of the figures:
//  - accounts use the test-only argon2id setting (the real one costs the client
//    ~0.3 s of its own CPU per login and nothing on the server), and every
//    first login message is computed before the clock starts;
//  - latency is the sum of the two HTTP round trips, without the client's
//    computation between them;
//  - capacity is derived from the CPU the vault (and PostgreSQL) processes
//    actually spent per login, read from /proc: cores / CPU-seconds per login,
//    where cores is 2 for PostgreSQL (two nodes plus the database spread over
//    both) and 1 for SQLite (one node process runs its JavaScript on one core).
//    The observed rate is printed too; it is lower, since the load generator
//    shares the same 2 cores.
// SQLite runs one vault node (one machine, one file); PostgreSQL runs two
// stateless nodes sharing the database, the clients alternating between them.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as opaque from '@serenity-kit/opaque';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { ROUTES } = await import(join(ROOT, 'dist/src/core/vault/protocol.js'));
const { sealRootKey } = await import(join(ROOT, 'dist/src/core/vault/key-envelope.js'));

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '15' }, clients: { type: 'string', default: '100' }, stores: { type: 'string', default: 'sqlite,postgres' } } });
const SECONDS = Number(values.seconds);
const CLIENTS = Number(values.clients);
const WEAK = { 'argon2id-custom': { iterations: 1, memory: 1024, parallelism: 1 } };
const TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS * 2 });

function post(base, path, body) {
  const payload = Buffer.from(JSON.stringify(body));
  return new Promise((res, rej) => {
    const u = new URL(base + path);
    const req = request({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': payload.length } }, (r) => {
      const chunks = [];
      r.on('data', (c) => chunks.push(c));
      r.on('end', () => res({ status: r.statusCode, json: JSON.parse(Buffer.concat(chunks).toString()) }));
    });
    req.on('error', rej);
    req.end(payload);
  });
}

function script(name, ...args) {
  // PostgreSQL with fsync on, like SQLite's durable commits: a fair comparison.
  const r = spawnSync('bash', [join(ROOT, 'scripts/services', name), ...args], { encoding: 'utf8', env: { ...process.env, PG_FSYNC: 'on' } });
  if (r.status !== 0) throw new Error(`${name} ${args[0]}: ${r.stderr}`);
  return Object.fromEntries(r.stdout.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

function startNode(dir, hsm, db, name) {
  const child = spawn(process.execPath, [join(ROOT, 'bin/chatsafe.js'), 'vault', 'serve', '--listen', '127.0.0.1:0', '--db', db, '--rate-ip', '0', '--rate-account', '0',
    '--pkcs11-module', hsm.PKCS11_MODULE, '--pkcs11-token', hsm.PKCS11_TOKEN, '--pkcs11-pin-file', hsm.PKCS11_PIN_FILE], { env: { ...process.env, SOFTHSM2_CONF: hsm.SOFTHSM2_CONF }, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((res, rej) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line.includes('"vault listening"')) res({ child, url: JSON.parse(line).listen, name });
    });
    child.once('exit', (c) => rej(new Error(`vault ${name} exited ${c}`)));
  });
}

/** CPU seconds (user + system) used so far by these processes. */
function cpuSeconds(pids) {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const f = readFileSync(`/proc/${pid}/stat`, 'utf8').slice(readFileSync(`/proc/${pid}/stat`, 'utf8').lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]);
    } catch { /* gone */ }
  }
  return ticks / TICKS;
}

/** The PostgreSQL server and all its backends: children of the postmaster. */
function postgresPids(dataDir) {
  const master = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const pids = [master];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const s = readFileSync(`/proc/${p}/stat`, 'utf8');
      if (Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[1]) === master) pids.push(Number(p));
    } catch { /* gone */ }
  }
  return pids;
}

async function register(url, password) {
  const { clientRegistrationState, registrationRequest } = opaque.client.startRegistration({ password });
  const s = await post(url, ROUTES.registerStart, { registrationRequest, keyStretching: 'test-only-weak' });
  const { registrationRecord, exportKey } = opaque.client.finishRegistration({ clientRegistrationState, registrationResponse: s.json.registrationResponse, password, keyStretching: WEAK });
  await post(url, ROUTES.registerFinish, { ticket: s.json.ticket, accountId: s.json.accountId, registrationRecord, sealedKey: sealRootKey(exportKey, s.json.accountId, Buffer.alloc(32, 7)) });
  return s.json.accountId;
}

function pct(sorted, p) {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN;
}

async function run(store, dir, hsm) {
  let db;
  let pgDir;
  if (store === 'postgres') {
    const pg = script('postgres.sh', 'start', join(dir, 'pg'));
    db = pg.DATABASE_URL;
    pgDir = pg.PGDATA;
  } else db = join(dir, 'vault.db');
  const nodes = [await startNode(dir, hsm, db, `${store}-a`)];
  if (store === 'postgres') nodes.push(await startNode(dir, hsm, db, `${store}-b`));
  try {
    const password = 'benchmark passphrase for the vault';
    const accounts = [];
    for (let i = 0; i < CLIENTS; i++) accounts.push(await register(nodes[i % nodes.length].url, password));
    // Precompute a pool of first messages per client so the loop does not compute them.
    const pool = accounts.map(() => Array.from({ length: 4 }, () => opaque.client.startLogin({ password })));
    const latencies = [];
    let logins = 0;
    let errors = 0;
    const pids = () => nodes.map((n) => n.child.pid).concat(pgDir ? postgresPids(pgDir) : []);
    const cpu0 = cpuSeconds(pids());
    const t0 = performance.now();
    const deadline = t0 + SECONDS * 1000;
    await Promise.all(accounts.map(async (accountId, i) => {
      const url = nodes[i % nodes.length].url;
      let k = 0;
      while (performance.now() < deadline) {
        const { clientLoginState, startLoginRequest } = pool[i][k++ % pool[i].length];
        const a = performance.now();
        const s = await post(url, ROUTES.loginStart, { accountId, startLoginRequest });
        const b = performance.now();
        if (s.status !== 200) { errors++; continue; }
        const fin = opaque.client.finishLogin({ clientLoginState, loginResponse: s.json.loginResponse, password, keyStretching: WEAK });
        const c = performance.now();
        const f = await post(url, ROUTES.loginFinish, { attemptId: s.json.attemptId, accountId, finishLoginRequest: fin.finishLoginRequest });
        const d = performance.now();
        if (f.status !== 200) { errors++; continue; }
        logins++;
        latencies.push(b - a + (d - c));
      }
    }));
    const elapsed = (performance.now() - t0) / 1000;
    const cpu = cpuSeconds(pids()) - cpu0;
    latencies.sort((x, y) => x - y);
    return {
      nodes: nodes.length,
      clients: CLIENTS,
      seconds: Math.round(elapsed * 10) / 10,
      logins,
      errors,
      observedLoginsPerSec: Math.round(logins / elapsed),
      serverCpuMsPerLogin: Math.round((cpu / logins) * 1000 * 100) / 100,
      coresUsable: nodes.length > 1 ? 2 : 1,
      capacityLoginsPerSec: Math.round((nodes.length > 1 ? 2 : 1) / (cpu / logins)),
      p50ms: Math.round(pct(latencies, 50) * 10) / 10,
      p99ms: Math.round(pct(latencies, 99) * 10) / 10,
    };
  } finally {
    for (const n of nodes) n.child.kill('SIGTERM');
    await Promise.all(nodes.map((n) => new Promise((r) => (n.child.exitCode !== null ? r() : n.child.once('exit', r)))));
    if (store === 'postgres') script('postgres.sh', 'stop', join(dir, 'pg'));
  }
}

await opaque.ready;
const dir = mkdtempSync(join(tmpdir(), 'chatsafe-vault-bench-'));
const hsm = script('softhsm.sh', 'start', join(dir, 'hsm'));
const results = {};
try {
  for (const store of values.stores.split(',')) {
    const r = await run(store, dir, hsm);
    results[store] = r;
    console.log(`${store.padEnd(8)} ${r.nodes} node(s), ${r.clients} clients, ${r.seconds} s: ${r.logins} logins (${r.errors} errors)`);
    console.log(`         capacity ${r.capacityLoginsPerSec} logins/s on ${r.coresUsable} core(s) of 2 (server CPU ${r.serverCpuMsPerLogin} ms per login); observed ${r.observedLoginsPerSec} logins/s with the load generator on the same cores`);
    console.log(`         latency p50 ${r.p50ms} ms, p99 ${r.p99ms} ms (two round trips, client work excluded)`);
  }
} finally {
  agent.destroy();
  script('softhsm.sh', 'stop', join(dir, 'hsm'));
  rmSync(dir, { recursive: true, force: true });
}
console.log(JSON.stringify({ bench: 'vault', cores: 2, hsm: 'softhsm2', ...results }));
