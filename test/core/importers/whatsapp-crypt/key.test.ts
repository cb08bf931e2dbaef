import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { loadWhatsAppKey, parseWhatsAppKey } from '../../../../src/core/importers/whatsapp-crypt/index.js';
import { keyMaterial } from '../../../../src/core/importers/whatsapp-crypt/key.js';
import { javaByteArray, makeLegacyKey } from './encoder.js';

const hex = randomBytes(32).toString('hex');

function kindOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return (e as { kind?: string }).kind;
  }
  return undefined;
}

test('typed digits: spaces, dashes and case are ignored', () => {
  const a = keyMaterial(parseWhatsAppKey(hex));
  const b = keyMaterial(parseWhatsAppKey(`\t${hex.toUpperCase().match(/.{4}/g)?.join(' - ')}\n`));
  assert.equal(a.kind, 'crypt15');
  assert.equal(b.kind, 'crypt15');
  if (a.kind === 'crypt15' && b.kind === 'crypt15') assert.ok(a.root.equals(b.root) && a.root.equals(Buffer.from(hex, 'hex')));
});

test('malformed typed keys are usage errors that never repeat the digits', () => {
  for (const bad of [hex.slice(0, 63), `${hex}0`, `${hex.slice(0, 63)}g`, '', 'not a key at all']) {
    try {
      parseWhatsAppKey(bad);
      assert.fail(`accepted ${bad.length} characters`);
    } catch (e) {
      const err = e as { kind?: string; message: string; hint?: string };
      assert.equal(err.kind, 'usage');
      assert.ok(!err.message.includes(hex.slice(0, 16)) && !(err.hint ?? '').includes(hex.slice(0, 16)));
    }
  }
  assert.match((() => { try { parseWhatsAppKey(hex.slice(0, 60)); } catch (e) { return (e as Error).message; } return ''; })(), /has 60/);
});

test('a key object has nothing to leak: toString, JSON, inspect, keys', () => {
  const key = parseWhatsAppKey(hex);
  const shown = [String(key), JSON.stringify(key), inspect(key, { showHidden: true, depth: 5 }), Object.keys(key).join(','), JSON.stringify(Object.getOwnPropertyDescriptors(key))].join('\n');
  assert.ok(!shown.includes(hex.slice(0, 8)) && !shown.toLowerCase().includes(Buffer.from(hex, 'hex').toString('base64').slice(0, 8).toLowerCase()), shown);
  assert.deepEqual(JSON.parse(JSON.stringify(key)), { kind: 'crypt15', source: 'typed' });
});

test('objects that only look like keys are refused', () => {
  assert.equal(kindOf(() => keyMaterial({ kind: 'crypt15', source: 'typed' })), 'usage');
});

test('key files: the e2e 32-byte array and the legacy 131-byte array', () => {
  const root = randomBytes(32);
  const e2e = keyMaterial(parseWhatsAppKey(javaByteArray(root)));
  assert.ok(e2e.kind === 'crypt15' && e2e.root.equals(root) && !e2e.typed);
  const legacy = makeLegacyKey();
  const m = keyMaterial(parseWhatsAppKey(legacy.file));
  assert.ok(m.kind === 'crypt12-14' && m.aesKey.equals(legacy.aesKey) && m.serverSalt.equals(legacy.serverSalt));
});

test('damaged or foreign key files give clear errors', () => {
  const legacy = makeLegacyKey();
  const flipped = Buffer.from(legacy.file);
  flipped[27 + 40] = (flipped[27 + 40] ?? 0) ^ 1; // inside the google id: its SHA-256 no longer matches
  assert.equal(kindOf(() => parseWhatsAppKey(flipped)), 'integrity');
  assert.equal(kindOf(() => parseWhatsAppKey(legacy.file.subarray(0, legacy.file.length - 1))), 'usage');
  assert.equal(kindOf(() => parseWhatsAppKey(javaByteArray(randomBytes(48)))), 'usage');
  assert.equal(kindOf(() => parseWhatsAppKey(randomBytes(59))), 'usage');
  assert.equal(kindOf(() => parseWhatsAppKey(Buffer.alloc(0))), 'usage');
  const badVersion = Buffer.from(legacy.array);
  badVersion[2] = 9;
  assert.equal(kindOf(() => parseWhatsAppKey(javaByteArray(badVersion))), 'unsupported');
});

test('loadWhatsAppKey: a file path, a text file of digits, typed digits, a missing file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'chatsafe-wa-key-'));
  try {
    const root = randomBytes(32);
    writeFileSync(join(dir, 'encrypted_backup.key'), javaByteArray(root));
    writeFileSync(join(dir, 'key.txt'), `${root.toString('hex').match(/.{4}/g)?.join(' ')}\n`);
    for (const arg of [join(dir, 'encrypted_backup.key'), join(dir, 'key.txt'), root.toString('hex')]) {
      const m = keyMaterial(await loadWhatsAppKey(arg));
      assert.ok(m.kind === 'crypt15' && m.root.equals(root), arg);
    }
    assert.equal((await loadWhatsAppKey(root.toString('hex'))).source, 'typed');
    assert.equal((await loadWhatsAppKey(join(dir, 'key.txt'))).source, 'file');
    await assert.rejects(loadWhatsAppKey(join(dir, 'nope.key')), (e: Error & { kind?: string }) => e.kind === 'not-found' && e.message.includes('nope.key'));
    await assert.rejects(loadWhatsAppKey(dir), (e: Error & { kind?: string }) => e.kind === 'usage');
    // A long, nearly-hex argument is a mistyped key: it must not be echoed as a file name.
    const typo = `${root.toString('hex').slice(0, 62)}zz`;
    await assert.rejects(loadWhatsAppKey(typo), (e: Error & { kind?: string }) => e.kind === 'usage' && !e.message.includes(typo.slice(0, 16)));
    writeFileSync(join(dir, 'big.key'), randomBytes(100_000));
    await assert.rejects(loadWhatsAppKey(join(dir, 'big.key')), (e: Error & { kind?: string }) => e.kind === 'usage' && /too large/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
