import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { openRootKey, sealRootKey } from '../../../src/core/vault/key-envelope.js';
import { isChatsafeError } from '../../../src/core/errors.js';

const exportKey = randomBytes(64).toString('base64url');
const accountId = randomBytes(16).toString('hex');

test('K sealed under the export key opens with the same export key and account', () => {
  const k = randomBytes(32);
  const sealed = sealRootKey(exportKey, accountId, k);
  assert.deepEqual(openRootKey(exportKey, accountId, sealed), k);
  assert.notEqual(sealRootKey(exportKey, accountId, k), sealed, 'a fresh nonce every time');
  assert.ok(!Buffer.from(sealed, 'base64url').includes(k));
});

test('another export key, another account or any flipped bit does not open it', () => {
  const sealed = sealRootKey(exportKey, accountId, randomBytes(32));
  const integrity = (e: unknown) => isChatsafeError(e) && e.kind === 'integrity';
  assert.throws(() => openRootKey(randomBytes(64).toString('base64url'), accountId, sealed), integrity);
  assert.throws(() => openRootKey(exportKey, randomBytes(16).toString('hex'), sealed), integrity);
  const raw = Buffer.from(sealed, 'base64url');
  for (let i = 0; i < raw.length; i++) {
    const bad = Buffer.from(raw);
    bad[i]! ^= 1 << i % 8;
    assert.throws(() => openRootKey(exportKey, accountId, bad.toString('base64url')), integrity, `bit flipped in byte ${i}`);
  }
  assert.throws(() => openRootKey(exportKey, accountId, raw.subarray(0, 40).toString('base64url')), integrity);
});

test('only 32-byte keys are sealed', () => {
  assert.throws(() => sealRootKey(exportKey, accountId, randomBytes(31)), (e) => isChatsafeError(e) && e.kind === 'usage');
});
