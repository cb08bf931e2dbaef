/**
 * The hand-written validators of snapshots, the repository header and locks
 * (and the UTC date-time rule they share) against tables of hostile inputs,
 * and differentially against the zod schemas they replaced, kept here, and
 * only here, as the reference: both must accept and refuse exactly the same
 * documents, and return the same value, keys in the same order, when they accept.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { z } from 'zod';
import { IntegrityError } from '../../../src/core/errors.js';
import { ConfigSchema, decodeConfig, encodeConfig, FORMAT_NAME, newConfig } from '../../../src/core/repo/config.js';
import { isIsoDateTime, type JsonValidator } from '../../../src/core/repo/json-shape.js';
import { LockSchema } from '../../../src/core/repo/lock.js';
import { META_LABELS, openJson, sealJson } from '../../../src/core/repo/sealed-json.js';
import { SnapshotSchema, SOURCE_KINDS } from '../../../src/core/repo/snapshot.js';
import { assertAgreeOnMutations, prng, testHostileTables, viaJson, type HostileCase, type MutationVocabulary, type Oracle } from './oracle-checks.js';

// ---- the former zod schemas, verbatim: the oracle ----
const oracleHex64 = z.string().regex(/^[0-9a-f]{64}$/);
const OracleSnapshot = z
  .object({
    v: z.literal(1),
    time: z.string().datetime(),
    hostname: z.string().max(255),
    appVersion: z.string().max(64),
    paths: z.array(z.string().max(4096)).min(1),
    tree: oracleHex64,
    parent: oracleHex64.nullable(),
    sourceKind: z.enum(SOURCE_KINDS).or(z.string().max(64)),
    catalog: z.object({ size: z.number().int().nonnegative(), content: z.array(oracleHex64) }).strict().nullable().default(null),
    catalogSource: oracleHex64.optional(),
    summary: z
      .object({
        files: z.number().int().nonnegative(),
        dirs: z.number().int().nonnegative(),
        bytes: z.number().int().nonnegative(),
        newBytes: z.number().int().nonnegative(),
        storedBytes: z.number().int().nonnegative(),
        durationMs: z.number().nonnegative(),
      })
      .strict(),
  })
  .strict();
const OracleConfig = z
  .object({
    format: z.literal(FORMAT_NAME),
    version: z.number().int(),
    id: z.string().regex(/^[0-9a-f]{32}$/),
    created: z.string().datetime(),
    appVersion: z.string().max(64),
  })
  .strict();
const OracleLock = z
  .object({ v: z.literal(1), exclusive: z.boolean(), host: z.string().max(255), pid: z.number().int(), created: z.string(), refreshed: z.string() })
  .strict();
const OracleDateTime = z.string().datetime();

// ---- valid documents ----
const hex = (label: string): string => createHash('sha256').update(label).digest('hex');

function validSnapshot(): Record<string, unknown> {
  return {
    v: 1,
    time: '2026-11-27T16:02:44.123Z',
    hostname: 'h'.repeat(255),
    appVersion: '0.1.0',
    paths: ['/home/ana/WhatsApp', '😀'.repeat(4096)],
    tree: hex('tree'),
    parent: hex('parent'),
    sourceKind: 'whatsapp-android',
    catalog: { size: 4096, content: [hex('c0'), hex('c1')] },
    catalogSource: hex('source'),
    summary: { files: 7364, dirs: 12, bytes: 1_100_000_000, newBytes: 0, storedBytes: 0, durationMs: 1234.5 },
  };
}

/** A snapshot as written before catalogs: no `catalog`, no `catalogSource`, keys in another order. */
function olderSnapshot(): Record<string, unknown> {
  return {
    summary: { durationMs: 0, storedBytes: 1, newBytes: 1, bytes: 1, dirs: 0, files: 1 },
    sourceKind: 'a kind from a newer version',
    parent: null,
    tree: hex('t'),
    paths: ['/x'],
    appVersion: '',
    hostname: '',
    time: '2000-02-29T23:59:59Z',
    v: 1,
  };
}

function validConfig(): Record<string, unknown> {
  return { format: FORMAT_NAME, version: 1, id: hex('config').slice(0, 32), created: '2026-01-01T00:00:00.000Z', appVersion: 'x'.repeat(64) };
}

function validLock(): Record<string, unknown> {
  return { v: 1, exclusive: true, host: 'laptop', pid: 4242, created: '2026-11-27T16:00:00.000Z', refreshed: 'any text: only compared as a date' };
}

test('valid snapshots, headers and locks are accepted and returned as by the former schemas', () => {
  const cases: Array<[JsonValidator<unknown>, Oracle, unknown]> = [
    [SnapshotSchema, OracleSnapshot, validSnapshot()],
    [SnapshotSchema, OracleSnapshot, olderSnapshot()],
    [SnapshotSchema, OracleSnapshot, { ...validSnapshot(), catalog: null }],
    [ConfigSchema, OracleConfig, validConfig()],
    [ConfigSchema, OracleConfig, newConfig('1.2.3')],
    [LockSchema, OracleLock, validLock()],
    [LockSchema, OracleLock, { ...validLock(), exclusive: false, pid: -1, host: '😀'.repeat(255) }],
  ];
  for (const [validator, oracle, doc] of cases) {
    const ours = validator.safeParse(viaJson(doc));
    const theirs = oracle.safeParse(viaJson(doc));
    assert.ok(ours.success && theirs.success, JSON.stringify(ours));
    // Through JSON: a snapshot's catalog chunks are held as bytes (`ChunkList`), and give back the same array.
    assert.deepEqual(viaJson(ours.data), theirs.data);
    assert.equal(JSON.stringify(ours.data), JSON.stringify(theirs.data));
  }
  const older = SnapshotSchema.safeParse(olderSnapshot());
  assert.ok(older.success);
  assert.equal(older.data.catalog, null, 'a missing catalog reads as null');
  assert.equal('catalogSource' in older.data, false);
});

// ---- hostile inputs ----
const HOSTILE_SNAPSHOT: HostileCase[] = [
  ['null', () => null, ''],
  ['an array', () => [], ''],
  ['wrong version', (d) => ({ ...d, v: 2 }), 'v'],
  ['missing time', (d) => (delete d.time, d), 'time'],
  ['time without Z', (d) => ({ ...d, time: '2026-11-27T16:02:44.123' }), 'time'],
  ['time with an offset', (d) => ({ ...d, time: '2026-11-27T16:02:44+01:00' }), 'time'],
  ['time on 30 February', (d) => ({ ...d, time: '2024-02-30T00:00:00Z' }), 'time'],
  ['time as a number', (d) => ({ ...d, time: 1764259364123 }), 'time'],
  ['hostname of 256 characters', (d) => ({ ...d, hostname: 'h'.repeat(256) }), 'hostname'],
  ['appVersion of 65 code points', (d) => ({ ...d, appVersion: '😀'.repeat(65) }), 'appVersion'],
  ['no paths', (d) => ({ ...d, paths: [] }), 'paths'],
  ['paths as a string', (d) => ({ ...d, paths: '/x' }), 'paths'],
  ['a path of 4097 characters', (d) => ((d.paths[1] = 'p'.repeat(4097)), d), 'paths.1'],
  ['a path as null', (d) => ((d.paths[0] = null), d), 'paths.0'],
  ['uppercase tree id', (d) => ({ ...d, tree: d.tree.toUpperCase() }), 'tree'],
  ['missing parent', (d) => (delete d.parent, d), 'parent'],
  ['short parent id', (d) => ({ ...d, parent: 'abc' }), 'parent'],
  ['sourceKind of 65 characters', (d) => ({ ...d, sourceKind: 'k'.repeat(65) }), 'sourceKind'],
  ['sourceKind as null', (d) => ({ ...d, sourceKind: null }), 'sourceKind'],
  ['catalog as an array', (d) => ({ ...d, catalog: [] }), 'catalog'],
  ['catalog with an extra key', (d) => ((d.catalog.name = 'Family'), d), 'catalog'],
  ['negative catalog size', (d) => ((d.catalog.size = -1), d), 'catalog.size'],
  ['fractional catalog size', (d) => ((d.catalog.size = 0.5), d), 'catalog.size'],
  ['a bad catalog content id', (d) => ((d.catalog.content[1] = 'nothex'), d), 'catalog.content.1'],
  ['catalogSource as null', (d) => ({ ...d, catalogSource: null }), 'catalogSource'],
  ['missing summary', (d) => (delete d.summary, d), 'summary'],
  ['summary with an extra key', (d) => ((d.summary.chats = 3), d), 'summary'],
  ['a negative file count', (d) => ((d.summary.files = -1), d), 'summary.files'],
  ['a fractional byte count', (d) => ((d.summary.bytes = 1.5), d), 'summary.bytes'],
  ['an unsafe storedBytes', (d) => ((d.summary.storedBytes = 2 ** 53), d), 'summary.storedBytes'],
  ['a negative duration', (d) => ((d.summary.durationMs = -0.5), d), 'summary.durationMs'],
  ['a duration as a string', (d) => ((d.summary.durationMs = '5'), d), 'summary.durationMs'],
  ['an extra top-level key', (d) => ({ ...d, note: 'x' }), ''],
  ['an own __proto__ key', (d) => JSON.parse(JSON.stringify(d).replace('{"v":1', '{"__proto__":{},"v":1')), ''],
];

const HOSTILE_CONFIG: HostileCase[] = [
  ['null', () => null, ''],
  ['another format', (d) => ({ ...d, format: 'restic' }), 'format'],
  ['version as a string', (d) => ({ ...d, version: '1' }), 'version'],
  ['fractional version', (d) => ({ ...d, version: 1.5 }), 'version'],
  ['an id of 31 digits', (d) => ({ ...d, id: d.id.slice(1) }), 'id'],
  ['an id of 64 digits', (d) => ({ ...d, id: hex('id') }), 'id'],
  ['an uppercase id', (d) => ({ ...d, id: d.id.toUpperCase().replace(/[0-9]/g, 'A') }), 'id'],
  ['created without seconds', (d) => ({ ...d, created: '2026-01-01T00:00Z' }), 'created'],
  ['created at hour 24', (d) => ({ ...d, created: '2026-01-01T24:00:00Z' }), 'created'],
  ['appVersion of 65 characters', (d) => ({ ...d, appVersion: 'x'.repeat(65) }), 'appVersion'],
  ['an extra key', (d) => ({ ...d, owner: 'ana' }), ''],
];

const HOSTILE_LOCK: HostileCase[] = [
  ['null', () => null, ''],
  ['wrong version', (d) => ({ ...d, v: 0 }), 'v'],
  ['exclusive as a string', (d) => ({ ...d, exclusive: 'true' }), 'exclusive'],
  ['host of 256 characters', (d) => ({ ...d, host: 'h'.repeat(256) }), 'host'],
  ['fractional pid', (d) => ({ ...d, pid: 1.5 }), 'pid'],
  ['unsafe pid', (d) => ({ ...d, pid: 2 ** 53 }), 'pid'],
  ['created as a number', (d) => ({ ...d, created: 0 }), 'created'],
  ['missing refreshed', (d) => (delete d.refreshed, d), 'refreshed'],
  ['an extra key', (d) => ({ ...d, user: 'ana' }), ''],
];

testHostileTables([
  ['snapshot', SnapshotSchema, OracleSnapshot, validSnapshot, HOSTILE_SNAPSHOT],
  ['repository header', ConfigSchema, OracleConfig, validConfig, HOSTILE_CONFIG],
  ['lock', LockSchema, OracleLock, validLock, HOSTILE_LOCK],
]);

test('a malformed sealed snapshot is an IntegrityError naming the bad field; a header that is not one is refused', () => {
  const key = randomBytes(32);
  const bad = { ...validSnapshot(), time: '2026-13-01T00:00:00Z' };
  const sealed = sealJson(key, META_LABELS.snapshot, bad);
  assert.throws(
    () => openJson(key, META_LABELS.snapshot, sealed.bytes, `snapshots/${sealed.name}`, SnapshotSchema, sealed.name),
    (e: unknown) => e instanceof IntegrityError && e.message === `snapshots/${sealed.name}: is malformed (time)`,
  );
  const config = newConfig('1.0.0');
  assert.deepEqual(decodeConfig(encodeConfig(config)).config, config);
  const extra = Buffer.from(JSON.stringify({ ...config, note: 'x' }));
  assert.throws(() => decodeConfig(extra), (e: unknown) => e instanceof IntegrityError);
});

// ---- the UTC date-time rule ----

test('date-times: the rule of z.string().datetime(), case by case', () => {
  const cases: Array<[string, boolean]> = [
    ['2026-11-27T16:02:44Z', true],
    ['2026-11-27T16:02:44.1Z', true],
    ['2026-11-27T16:02:44.123456789012Z', true],
    ['0000-01-01T00:00:00Z', true],
    ['9999-12-31T23:59:59Z', true],
    ['2024-02-29T00:00:00Z', true],
    ['2000-02-29T00:00:00Z', true],
    ['0000-02-29T00:00:00Z', true],
    ['1900-02-29T00:00:00Z', false],
    ['2023-02-29T00:00:00Z', false],
    ['2024-04-31T00:00:00Z', false],
    ['2024-00-10T00:00:00Z', false],
    ['2024-01-00T00:00:00Z', false],
    ['2024-01-01T24:00:00Z', false],
    ['2024-01-01T23:60:00Z', false],
    ['2024-01-01T23:59:60Z', false],
    ['2024-01-01T00:00:00.Z', false],
    ['2024-01-01T00:00:00z', false],
    ['2024-01-01t00:00:00Z', false],
    ['2024-01-01 00:00:00Z', false],
    ['2024-01-01T00:00Z', false],
    ['2024-01-01T00:00:00', false],
    ['2024-01-01T00:00:00+00:00', false],
    ['+02024-01-01T00:00:00Z', false],
    [' 2024-01-01T00:00:00Z', false],
    ['2024-01-01T00:00:00Z\n', false],
    ['2024-01-01T00:00:00.1.2Z', false],
    ['２０２４-01-01T00:00:00Z', false],
    ['2024-01-01T00:00:00.١Z', false],
    ['2024-1-01T00:00:00Z', false],
    ['', false],
  ];
  for (const [s, ok] of cases) {
    assert.equal(isIsoDateTime(s), ok, s);
    assert.equal(OracleDateTime.safeParse(s).success, ok, `${s}: the table is wrong`);
  }
  for (const notString of [null, 0, [], {}, new Date()]) assert.equal(isIsoDateTime(notString), false);
});

test('date-times: the rule and z.string().datetime() agree on 20,000 generated and 20,000 mutated strings', () => {
  const random = prng(1764259364);
  const int = (n: number): number => Math.floor(random() * n);
  const pad = (n: number, width: number): string => String(n).padStart(width, '0');
  const chars = ['0', '1', '2', '5', '9', '-', ':', 'T', 'Z', '.', 'z', ' ', '+', '١', '\n'];
  let accepted = 0;
  for (let n = 0; n < 20000; n++) {
    // Every field on and around its range, so the calendar and clock limits are crossed often.
    const fraction = random() < 0.3 ? `.${pad(int(1000), 1 + int(4))}` : '';
    const s = `${pad(int(10000), 4)}-${pad(int(14), 2)}-${pad(int(33), 2)}T${pad(int(25), 2)}:${pad(int(61), 2)}:${pad(int(61), 2)}${fraction}Z`;
    assert.equal(isIsoDateTime(s), OracleDateTime.safeParse(s).success, s);
    if (isIsoDateTime(s)) accepted++;
  }
  assert.ok(accepted > 2000 && accepted < 18000, `${accepted} of 20000 generated strings accepted`);
  for (let n = 0; n < 20000; n++) {
    let s = new Date(int(2 ** 44)).toISOString();
    for (let r = 1 + int(2); r > 0; r--) {
      const i = int(s.length + 1);
      s = s.slice(0, i) + (random() < 0.8 ? chars[int(chars.length)] : '') + s.slice(i + (random() < 0.6 ? 1 : 0));
    }
    assert.equal(isIsoDateTime(s), OracleDateTime.safeParse(s).success, JSON.stringify(s));
  }
});

// ---- differential: random mutations of valid documents ----

const VOCABULARY: MutationVocabulary = {
  values: [
    null, true, false, 0, -0, 1, -1, 1.5, 2, 4242, 2 ** 53 - 1, 2 ** 53, 1e300,
    '', 'a', 'x'.repeat(64), 'x'.repeat(65), 'h'.repeat(255), 'h'.repeat(256), '😀'.repeat(64), '😀'.repeat(65), '😀'.repeat(255), '😀'.repeat(256),
    'p'.repeat(4096), 'p'.repeat(4097), '\ud800'.repeat(65),
    '2026-11-27T16:02:44Z', '2026-11-27T16:02:44.5Z', '2024-02-29T00:00:00Z', '2023-02-29T00:00:00Z', '2026-11-27T16:02:44', '2026-11-27T16:02:44+00:00',
    hex('v'), hex('v').toUpperCase(), hex('v').slice(1), hex('v').slice(32), hex('v').slice(33), FORMAT_NAME, 'chatsafe-bundle',
    ...SOURCE_KINDS, 'toString', '__proto__',
    [], {}, [hex('q')], ['x'], ['/p'], { size: 1, content: [] },
  ],
  keys: [
    'v', 'time', 'hostname', 'appVersion', 'paths', 'tree', 'parent', 'sourceKind', 'catalog', 'catalogSource', 'summary', 'size', 'content',
    'files', 'dirs', 'bytes', 'newBytes', 'storedBytes', 'durationMs', 'format', 'version', 'id', 'created', 'exclusive', 'host', 'pid', 'refreshed', 'extra', '__proto__',
  ],
  fragments: ['a', 'f', 'g', '0', '9', '-', ':', '.', 'T', 'Z', 'A', '', '😀'],
};

for (const [kind, validator, oracle, make, seed] of [
  ['snapshot', SnapshotSchema, OracleSnapshot, validSnapshot, 11],
  ['older snapshot', SnapshotSchema, OracleSnapshot, olderSnapshot, 12],
  ['repository header', ConfigSchema, OracleConfig, validConfig, 13],
  ['lock', LockSchema, OracleLock, validLock, 14],
] as const) {
  test(`${kind}s: the validator and the former zod schema agree on 3,000 mutated documents`, () => {
    assertAgreeOnMutations({ validator, oracle, make, seed, documents: 3000, vocabulary: VOCABULARY, sameKeyOrder: true });
  });
}
