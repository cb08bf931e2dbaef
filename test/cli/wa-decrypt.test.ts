/** `chatsafe wa-decrypt`, run as the real built CLI process. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { CLI_BIN, fixture } from '../helpers/fixtures.js';
import { encodeCrypt14, encodeCrypt15, javaByteArray, makeLegacyKey } from '../core/importers/whatsapp-crypt/encoder.js';
import { makeSampleDb } from '../core/importers/whatsapp-crypt/sample-db.js';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolvePromise, reject) => {
    const base = { ...process.env };
    delete base.CHATSAFE_WA_KEY;
    const child = spawn(process.execPath, [CLI_BIN, ...args], { env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, stdout, stderr }));
  });
}

let dir: string;
let db: Buffer;
const root = randomBytes(32);
const rootHex = root.toString('hex');
let c15: string;
let c14: string;
let legacyKeyPath: string;
let e2eKeyPath: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'chatsafe-wa-cli-'));
  db = makeSampleDb(dir);
  const payload = deflateSync(db);
  const legacy = makeLegacyKey();
  c15 = join(dir, 'msgstore.db.crypt15');
  c14 = join(dir, 'msgstore.db.crypt14');
  legacyKeyPath = join(dir, 'key');
  e2eKeyPath = join(dir, 'encrypted_backup.key');
  writeFileSync(c15, encodeCrypt15(payload, root));
  writeFileSync(c14, encodeCrypt14(payload, legacy));
  writeFileSync(legacyKeyPath, legacy.file);
  writeFileSync(e2eKeyPath, javaByteArray(root));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const noPartials = () => assert.deepEqual(readdirSync(dir).filter((n) => n.endsWith('.partial')), []);

test('typed key on the command line: decrypts, and warns that argv is visible', async () => {
  const out = join(dir, 'typed.db');
  const r = await cli(['wa-decrypt', c15, '--wa-key', rootHex, '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(readFileSync(out).equals(db));
  assert.match(r.stderr, /visible to other users/);
  assert.equal(r.stderr.trim().split('\n').length, 1, 'the warning is one line');
  assert.ok(!r.stderr.includes(rootHex) && !r.stdout.includes(rootHex));
  assert.match(r.stdout, /crypt15/);
});

test('key file, or the key in CHATSAFE_WA_KEY: no warning; --json result', async () => {
  const out1 = join(dir, 'file.db');
  const r1 = await cli(['wa-decrypt', c15, '--wa-key', e2eKeyPath, '--out', out1, '--json']);
  assert.equal(r1.code, 0, r1.stderr);
  assert.equal(r1.stderr, '');
  assert.deepEqual(JSON.parse(r1.stdout), { input: c15, out: out1, format: 'crypt15', bytesIn: readFileSync(c15).length, bytesOut: db.length });
  const out2 = join(dir, 'env.db');
  const r2 = await cli(['wa-decrypt', c14, '--out', out2], { CHATSAFE_WA_KEY: legacyKeyPath });
  assert.equal(r2.code, 0, r2.stderr);
  assert.equal(r2.stderr, '');
  assert.ok(readFileSync(out2).equals(db));
  const out3 = join(dir, 'env-typed.db');
  const r3 = await cli(['wa-decrypt', c15, '--out', out3], { CHATSAFE_WA_KEY: rootHex });
  assert.equal(r3.code, 0, r3.stderr);
  assert.equal(r3.stderr, '');
});

test('wrong key: exit 3, nothing written', async () => {
  const out = join(dir, 'wrong.db');
  const r = await cli(['wa-decrypt', c15, '--out', out], { CHATSAFE_WA_KEY: randomBytes(32).toString('hex') });
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.stderr, /does not open/);
  assert.equal(existsSync(out), false);
  const r2 = await cli(['wa-decrypt', c15, '--wa-key', legacyKeyPath, '--out', out]);
  assert.equal(r2.code, 3, r2.stderr);
  assert.equal(existsSync(out), false);
  noPartials();
});

test('damaged or truncated file: exit 4, nothing written', async () => {
  const good = readFileSync(c15);
  const out = join(dir, 'damaged.db');
  const flipped = Buffer.from(good);
  flipped[Math.floor(good.length / 2)] = (flipped[Math.floor(good.length / 2)] ?? 0) ^ 0x10;
  for (const [name, bytes] of [['flipped.crypt15', flipped], ['cut.crypt15', good.subarray(0, good.length - 100)], ['empty.crypt15', Buffer.alloc(0)]] as const) {
    const input = join(dir, name);
    writeFileSync(input, bytes);
    const r = await cli(['wa-decrypt', input, '--out', out], { CHATSAFE_WA_KEY: e2eKeyPath });
    assert.equal(r.code, 4, `${name}: ${r.stderr}`);
    assert.ok(r.stderr.includes(input), r.stderr);
    assert.equal(existsSync(out), false);
  }
  noPartials();
});

test('usage errors: exit 2', async () => {
  const out = join(dir, 'usage.db');
  for (const args of [
    ['wa-decrypt', c15, '--wa-key', e2eKeyPath],
    ['wa-decrypt', '--wa-key', e2eKeyPath, '--out', out],
    ['wa-decrypt', c15, c14, '--wa-key', e2eKeyPath, '--out', out],
    ['wa-decrypt', c15, '--out', out],
    ['wa-decrypt', c15, '--wa-key', e2eKeyPath, '--out', out, '--bogus'],
    ['wa-decrypt', c15, '--wa-key', '1234', '--out', out],
  ]) {
    const r = await cli(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(existsSync(out), false);
  }
});

test('an existing --out is kept unless --overwrite', async () => {
  const out = join(dir, 'exists.db');
  writeFileSync(out, 'keep me');
  const r = await cli(['wa-decrypt', c15, '--wa-key', e2eKeyPath, '--out', out]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /already exists/);
  assert.equal(readFileSync(out, 'utf8'), 'keep me');
  const r2 = await cli(['wa-decrypt', c15, '--wa-key', e2eKeyPath, '--out', out, '--overwrite']);
  assert.equal(r2.code, 0, r2.stderr);
  assert.ok(readFileSync(out).equals(db));
});

test('a file that is not a WhatsApp backup: a clear message, exit 1', async () => {
  const input = join(dir, 'notes.txt');
  writeFileSync(input, 'shopping list\n');
  const r = await cli(['wa-decrypt', input, '--wa-key', e2eKeyPath, '--out', join(dir, 'notes.db')]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /not a WhatsApp encrypted backup/);
});

const fx15 = fixture('whatsapp-crypt/msgstore.db.crypt15');
const fxKey = fixture('whatsapp-crypt/key');
const fx14 = fixture('whatsapp-crypt/msgstore.db.crypt14');
const fxPlain = fixture('whatsapp-crypt/msgstore.db');

test('the shared fixtures decrypt through the CLI to the exact msgstore.db', { skip: fx15.skip || fx14.skip || fxKey.skip || fxPlain.skip }, async () => {
  const want = sha256(readFileSync(fxPlain.path));
  const out = join(dir, 'fixture15.db');
  const r = await cli(['wa-decrypt', fx15.path, '--out', out], { CHATSAFE_WA_KEY: '6730 a595 a148 4d0c 39c1 01dc 0ac8 2ec5 e401 bb6f 0e1b 8ee2 dc10 4a6b 3687 f017' });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(sha256(readFileSync(out)), want);
  const out14 = join(dir, 'fixture14.db');
  const r14 = await cli(['wa-decrypt', fx14.path, '--wa-key', fxKey.path, '--out', out14]);
  assert.equal(r14.code, 0, r14.stderr);
  assert.equal(sha256(readFileSync(out14)), want);
});
