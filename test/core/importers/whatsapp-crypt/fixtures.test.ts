/** The shared fixtures from wa-crypt-tools: real WhatsApp-written backups of one msgstore.db. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decryptWhatsAppBackup, loadWhatsAppKey, parseWhatsAppKey, sniffWhatsAppBackup, type WhatsAppKey } from '../../../../src/core/importers/whatsapp-crypt/index.js';
import { fixture } from '../../../helpers/fixtures.js';

const PLAIN_SHA256 = '1425b944a2e3885fc936a7bb82f6548c5cc09523a2f61f02aa836c4ed8bbd16e';
const TYPED_KEY = '6730a595a1484d0c39c101dc0ac82ec5e401bb6f0e1b8ee2dc104a6b3687f017';

const plain = fixture('whatsapp-crypt/msgstore.db');
const c15 = fixture('whatsapp-crypt/msgstore.db.crypt15');
const c14 = fixture('whatsapp-crypt/msgstore.db.crypt14');
const c14noExpiry = fixture('whatsapp-crypt/msgstore-noexpiry.db.crypt14');
const c12 = fixture('whatsapp-crypt/msgstore.db.crypt12');
const e2eKeyFile = fixture('whatsapp-crypt/encrypted_backup.key');
const legacyKeyFile = fixture('whatsapp-crypt/key');

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

async function decryptsToPlain(input: string, key: WhatsAppKey, format: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'chatsafe-wa-fixture-'));
  try {
    const out = join(dir, 'msgstore.db');
    const r = await decryptWhatsAppBackup(input, key, out);
    assert.equal(r.format, format);
    assert.equal(r.bytesOut, 1_273_856);
    assert.equal(r.bytesIn, readFileSync(input).length);
    assert.equal(sha256(out), PLAIN_SHA256);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('the plaintext fixture is the one the README describes', { skip: plain.skip }, () => {
  assert.equal(sha256(plain.path), PLAIN_SHA256);
});

test('crypt15 decrypts with the typed 64-digit key, however it is spaced and cased', { skip: c15.skip }, async () => {
  await decryptsToPlain(c15.path, parseWhatsAppKey(TYPED_KEY), 'crypt15');
  const grouped = TYPED_KEY.toUpperCase().match(/.{4}/g)?.join(' ') ?? '';
  await decryptsToPlain(c15.path, await loadWhatsAppKey(` ${grouped} `), 'crypt15');
  await decryptsToPlain(c15.path, parseWhatsAppKey(TYPED_KEY.match(/.{4}/g)?.join('-') ?? ''), 'crypt15');
});

test('crypt15 decrypts with encrypted_backup.key, by path and by bytes', { skip: c15.skip || e2eKeyFile.skip }, async () => {
  await decryptsToPlain(c15.path, await loadWhatsAppKey(e2eKeyFile.path), 'crypt15');
  await decryptsToPlain(c15.path, parseWhatsAppKey(readFileSync(e2eKeyFile.path)), 'crypt15');
});

test('both crypt14 files decrypt with the key file', { skip: c14.skip || c14noExpiry.skip || legacyKeyFile.skip }, async () => {
  const key = await loadWhatsAppKey(legacyKeyFile.path);
  await decryptsToPlain(c14.path, key, 'crypt14');
  await decryptsToPlain(c14noExpiry.path, key, 'crypt14');
});

test('crypt12 decrypts with the key file', { skip: c12.skip || legacyKeyFile.skip }, async () => {
  await decryptsToPlain(c12.path, parseWhatsAppKey(readFileSync(legacyKeyFile.path)), 'crypt12');
});

test('sniffing names each fixture and rejects the rest', { skip: c15.skip || c14.skip || c12.skip || plain.skip }, async () => {
  assert.deepEqual(await sniffWhatsAppBackup(c15.path), { format: 'crypt15' });
  assert.deepEqual(await sniffWhatsAppBackup(c14.path), { format: 'crypt14' });
  assert.deepEqual(await sniffWhatsAppBackup(c14noExpiry.path), { format: 'crypt14' });
  assert.deepEqual(await sniffWhatsAppBackup(c12.path), { format: 'crypt12' });
  for (const other of ['msgstore.db', 'key', 'encrypted_backup.key', 'test.json', 'test9.zip', 'empty-db.zlib1']) {
    assert.equal(await sniffWhatsAppBackup(fixture(`whatsapp-crypt/${other}`).path), null, other);
  }
});

test('a key of the other generation is refused as a wrong key, naming the file', { skip: c15.skip || c14.skip || legacyKeyFile.skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'chatsafe-wa-fixture-'));
  try {
    const out = join(dir, 'msgstore.db');
    await assert.rejects(decryptWhatsAppBackup(c15.path, await loadWhatsAppKey(legacyKeyFile.path), out), (e: Error & { kind?: string }) => e.kind === 'wrong-key' && e.message.includes(c15.path) && /crypt15/.test(e.message));
    await assert.rejects(decryptWhatsAppBackup(c14.path, parseWhatsAppKey(TYPED_KEY), out), (e: Error & { kind?: string }) => e.kind === 'wrong-key' && e.message.includes(c14.path) && /`key` file/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
