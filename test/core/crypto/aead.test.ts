import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { aadOf, AuthenticationFailed, open, seal, sealedLength, sealInto, sealSteps, SEAL_OVERHEAD } from '../../../src/core/crypto/aead.js';

const key = randomBytes(32);
const aad = aadOf('chatsafe/test/aead', Buffer.from('repo'));

test('sealing in steps hands over a sealed object that opens to the parts joined, for parts across step boundaries', () => {
  const cases: Uint8Array[][] = [
    [],
    [Buffer.alloc(0)],
    [randomBytes(1)],
    [randomBytes(64 * 1024)],
    [randomBytes(64 * 1024 + 1), randomBytes(3), Buffer.alloc(0), randomBytes(200_000)],
    [new Uint8Array(randomBytes(100_000).buffer, 10, 70_000)],
  ];
  for (const parts of cases) {
    const pieces: Buffer[] = [];
    sealSteps(key, aad, parts, (piece) => pieces.push(Buffer.from(piece)));
    const sealed = Buffer.concat(pieces);
    const plain = Buffer.concat(parts.map((p) => Buffer.from(p)));
    assert.equal(sealed.length, sealedLength(parts));
    assert.equal(sealed.length, plain.length + SEAL_OVERHEAD);
    assert.deepEqual(open(key, aad, sealed), plain);
    assert.ok(pieces.every((p) => p.length <= 64 * 1024), 'no piece is larger than one step');
  }
});

test('every way of sealing gives objects the others open, each under a fresh nonce, and a changed byte fails', () => {
  const parts = [randomBytes(70_000), randomBytes(5)];
  const plain = Buffer.concat(parts);
  const whole = seal(key, aad, ...parts);
  const into = Buffer.alloc(sealedLength(parts) + 8);
  assert.equal(sealInto(into, 8, key, aad, ...parts), sealedLength(parts));
  const steps: Buffer[] = [];
  sealSteps(key, aad, parts, (piece) => steps.push(Buffer.from(piece)));
  const stepped = Buffer.concat(steps);
  for (const sealed of [whole, into.subarray(8), stepped]) assert.deepEqual(open(key, aad, sealed), plain);
  assert.notDeepEqual(whole.subarray(0, 12), stepped.subarray(0, 12), 'nonces differ');
  stepped[stepped.length - 20]! ^= 1;
  assert.throws(() => open(key, aad, stepped), AuthenticationFailed);
  assert.throws(() => open(key, aadOf('chatsafe/test/other'), whole), AuthenticationFailed);
});
