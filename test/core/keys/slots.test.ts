/**
 * The hand-written key-slot validator against a table of hostile slots, and
 * differentially against the zod schema it replaced (kept here, and only
 * here, as the reference); the slot as the bundle header carries it; and a
 * slot's round trip through its encoding.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { z } from 'zod';
import { BundleHeaderSchema } from '../../../src/core/bundle/format.js';
import { IntegrityError } from '../../../src/core/errors.js';
import { RootKey } from '../../../src/core/keys/root-key.js';
import { createSlot, decodeSlot, encodeSlot, KeySlotSchema, MASTER_KEY_BYTES, slotMatches, unwrapSlot } from '../../../src/core/keys/slots.js';
import { assertAgreeOnMutations, assertRefusedLikeOracle, viaJson, type HostileCase, type MutationVocabulary } from '../repo/oracle-checks.js';

// ---- the former zod schema, verbatim: the oracle ----
const oracleB64 = (bytes: number) =>
  z
    .string()
    .regex(/^[A-Za-z0-9+/]+={0,2}$/)
    .refine((s) => Buffer.from(s, 'base64').length === bytes, `must be ${bytes} bytes`);
const oracleCommon = {
  v: z.literal(1),
  id: z.string().regex(/^[0-9a-f]{32}$/),
  created: z.string().datetime(),
  salt: oracleB64(32),
  check: oracleB64(16),
  wrapped: oracleB64(12 + MASTER_KEY_BYTES + 16),
};
const OracleKeySlot = z.discriminatedUnion('kind', [
  z.object({ ...oracleCommon, kind: z.literal('key') }).strict(),
  z
    .object({
      ...oracleCommon,
      kind: z.literal('password'),
      vault: z.object({ url: z.string().url().max(2048), accountId: z.string().min(1).max(200) }).strict(),
    })
    .strict(),
]);

// ---- valid slots ----
const bytes = (label: string, n: number): Buffer => createHash('sha512').update(label).digest().subarray(0, n);

function keySlot(): Record<string, unknown> {
  return {
    v: 1,
    id: bytes('id', 16).toString('hex'),
    created: '2026-11-27T16:02:44.123Z',
    salt: bytes('salt', 32).toString('base64'),
    check: bytes('check', 16).toString('base64'),
    wrapped: bytes('wrapped', 60).toString('base64'),
    kind: 'key',
  };
}

function passwordSlot(): Record<string, unknown> {
  return { ...keySlot(), kind: 'password', vault: { url: 'https://vault.example.org:8443/v1', accountId: 'ana@example.org' } };
}

test('valid slots are accepted and returned as by the former schema, a vault address cleaned the same way', () => {
  const cases: unknown[] = [
    keySlot(),
    passwordSlot(),
    { ...passwordSlot(), vault: { url: '  https://vault.exa\tmple.org/\n ', accountId: '😀'.repeat(200) } },
    { ...passwordSlot(), vault: { url: `https://v.example/${'p'.repeat(2000)}`, accountId: 'a' } },
    // base64 without its padding decodes to the same bytes
    { ...keySlot(), salt: bytes('salt', 32).toString('base64').replace(/=+$/, '') },
  ];
  for (const doc of cases) {
    const ours = KeySlotSchema.safeParse(viaJson(doc));
    const theirs = OracleKeySlot.safeParse(viaJson(doc));
    assert.ok(ours.success && theirs.success, JSON.stringify(ours).slice(0, 500));
    assert.deepEqual(ours.data, theirs.data);
    assert.equal(JSON.stringify(ours.data), JSON.stringify(theirs.data));
  }
  const cleaned = KeySlotSchema.safeParse(cases[2]);
  assert.ok(cleaned.success && cleaned.data.kind === 'password');
  assert.equal(cleaned.data.vault.url, 'https://vault.example.org/');
});

const HOSTILE_SLOT: HostileCase[] = [
  ['null', () => null, ''],
  ['an array', () => [], ''],
  ['no kind', (d) => (delete d.kind, d), 'kind'],
  ['an unknown kind', (d) => ({ ...d, kind: 'yubikey' }), 'kind'],
  ['an inherited name as kind', (d) => ({ ...d, kind: 'constructor' }), 'kind'],
  ['wrong version', (d) => ({ ...d, v: 2 }), 'v'],
  ['an id of 64 digits', (d) => ({ ...d, id: d.id + d.id }), 'id'],
  ['an uppercase id', (d) => ({ ...d, id: 'A'.repeat(32) }), 'id'],
  ['created with an offset', (d) => ({ ...d, created: '2026-11-27T16:02:44+00:00' }), 'created'],
  ['a salt one byte short', (d) => ({ ...d, salt: bytes('salt', 31).toString('base64') }), 'salt'],
  ['a salt in base64url', (d) => ({ ...d, salt: Buffer.alloc(32, 0xfb).toString('base64url') }), 'salt'],
  ['a salt with three pads', (d) => ({ ...d, salt: d.salt + '==' }), 'salt'],
  ['a salt with a space', (d) => ({ ...d, salt: ' ' + d.salt }), 'salt'],
  ['an empty check', (d) => ({ ...d, check: '' }), 'check'],
  ['a check as bytes', (d) => ({ ...d, check: [...bytes('check', 16)] }), 'check'],
  ['a wrapped key one byte long', (d) => ({ ...d, wrapped: bytes('wrapped', 61).toString('base64') }), 'wrapped'],
  ['an extra key', (d) => ({ ...d, hint: 'my cat' }), ''],
  ['a key slot with a vault', (d) => ({ ...d, vault: { url: 'https://v.example', accountId: 'a' } }), ''],
  ['a password slot without a vault', (d) => ({ ...d, kind: 'password' }), 'vault'],
];

const HOSTILE_PASSWORD_SLOT: HostileCase[] = [
  ['a vault as a string', (d) => ({ ...d, vault: 'https://v.example' }), 'vault'],
  ['a vault without url', (d) => (delete d.vault.url, d), 'vault.url'],
  ['a relative vault url', (d) => ((d.vault.url = '/v1/login'), d), 'vault.url'],
  ['a vault url that is not one', (d) => ((d.vault.url = 'vault example org'), d), 'vault.url'],
  ['a vault url of 2049 characters', (d) => ((d.vault.url = `https://v.example/${'p'.repeat(2049 - 18)}`), d), 'vault.url'],
  ['an empty account', (d) => ((d.vault.accountId = ''), d), 'vault.accountId'],
  ['an account of 201 code points', (d) => ((d.vault.accountId = '😀'.repeat(201)), d), 'vault.accountId'],
  ['an account as a number', (d) => ((d.vault.accountId = 7), d), 'vault.accountId'],
  ['an extra vault key', (d) => ((d.vault.password = 'hunter2'), d), 'vault'],
  ['an extra top-level key', (d) => ({ ...d, note: 1 }), ''],
];

test('hostile key slots are refused naming the bad field, as by the former schema', () => {
  assertRefusedLikeOracle(KeySlotSchema, OracleKeySlot, keySlot, HOSTILE_SLOT);
  assertRefusedLikeOracle(KeySlotSchema, OracleKeySlot, passwordSlot, HOSTILE_PASSWORD_SLOT);
});

test('a slot made for a key round-trips through its encoding and still opens; a renamed or altered one does not decode', () => {
  const k = RootKey.generate();
  const masterKey = bytes('master key', MASTER_KEY_BYTES);
  const configHash = bytes('config', 32);
  const slot = createSlot(k, masterKey, configHash, { kind: 'key' });
  const decoded = decodeSlot(slot.id, encodeSlot(slot));
  assert.deepEqual(decoded, slot);
  assert.ok(slotMatches(decoded, k));
  assert.deepEqual(unwrapSlot(decoded, k, configHash), masterKey);
  assert.throws(() => decodeSlot('0'.repeat(32), encodeSlot(slot)), (e: unknown) => e instanceof IntegrityError);
  assert.throws(() => decodeSlot(slot.id, Buffer.from(JSON.stringify({ ...slot, kind: 'password' }))), (e: unknown) => e instanceof IntegrityError);
  assert.throws(() => decodeSlot(slot.id, Buffer.from('{"v":1,')), (e: unknown) => e instanceof IntegrityError);
});

test('the bundle header checks its copies of the slots with the same validator', () => {
  const header = {
    format: 'chatsafe-bundle',
    version: 1,
    created: '2026-11-27T16:02:44.123Z',
    appVersion: '1.0.0',
    repository: 'e30=',
    slots: [keySlot(), { ...passwordSlot(), vault: { url: ' https://vault.example.org\n', accountId: 'a' } }],
    salt: bytes('bundle salt', 32).toString('base64'),
    noncePrefix: bytes('nonce', 7).toString('base64'),
    files: 1,
    bytes: 0,
    snapshotTime: '2026-11-27T16:02:44.123Z',
  };
  const parsed = BundleHeaderSchema.safeParse(viaJson(header));
  assert.ok(parsed.success);
  assert.deepEqual(parsed.data.slots[0], keySlot());
  const second = parsed.data.slots[1];
  assert.ok(second?.kind === 'password');
  assert.equal(second.vault.url, 'https://vault.example.org');
  for (const bad of [{ ...keySlot(), check: '' }, { ...keySlot(), extra: 1 }, null]) {
    assert.equal(BundleHeaderSchema.safeParse(viaJson({ ...header, slots: [keySlot(), bad] })).success, false, JSON.stringify(bad));
  }
  assert.equal(BundleHeaderSchema.safeParse(viaJson({ ...header, slots: [] })).success, false);
});

const VOCABULARY: MutationVocabulary = {
  values: [
    null, true, 0, 1, 2, 1.5, -1, '', 'a', 'key', 'password', 'toString',
    bytes('s', 16).toString('hex'), bytes('s', 16).toString('hex').toUpperCase(), bytes('s', 32).toString('hex'),
    '2026-11-27T16:02:44Z', '2023-02-29T00:00:00Z', '2026-11-27T16:02:44',
    bytes('x', 32).toString('base64'), bytes('x', 31).toString('base64'), bytes('x', 33).toString('base64'), bytes('x', 16).toString('base64'),
    bytes('x', 60).toString('base64'), bytes('x', 59).toString('base64'), Buffer.alloc(32, 0xff).toString('base64url'), '====', 'AA==',
    'https://v.example', 'http:v.example', ' https://v.example ', 'https://v.exa\nmple', 'mailto:a@b', 'not a url', '//v.example', `https://v.example/${'p'.repeat(2040)}`,
    'x'.repeat(200), 'x'.repeat(201), '😀'.repeat(200), '😀'.repeat(201),
    [], {}, { url: 'https://v.example', accountId: 'a' }, ['x'],
  ],
  keys: ['v', 'id', 'created', 'salt', 'check', 'wrapped', 'kind', 'vault', 'url', 'accountId', 'extra', '__proto__'],
  fragments: ['a', 'f', 'A', '0', '+', '/', '=', '-', '_', ' ', '\t', ':', '.', '', '😀'],
};

for (const [kind, make, seed] of [
  ['key slot', keySlot, 21],
  ['password slot', passwordSlot, 22],
] as const) {
  test(`${kind}s: the validator and the former zod schema agree on 3,000 mutated slots`, () => {
    assertAgreeOnMutations({ validator: KeySlotSchema, oracle: OracleKeySlot, make, seed, documents: 3000, vocabulary: VOCABULARY, sameKeyOrder: true });
  });
}
