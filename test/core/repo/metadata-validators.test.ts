/**
 * The hand-written validators of index files and trees against a table of
 * hostile inputs, and differentially against the zod schemas they replaced
 * (kept here, and only here, as the reference): both must accept and refuse
 * exactly the same documents, and return the same value when they accept.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { z } from 'zod';
import { IntegrityError } from '../../../src/core/errors.js';
import { MAX_DATA_BLOB_BYTES, MAX_TREE_BLOB_BYTES } from '../../../src/core/repo/blob.js';
import { ChunkList } from '../../../src/core/repo/chunk-list.js';
import { IndexFileSchema } from '../../../src/core/repo/index-file.js';
import type { JsonValidator } from '../../../src/core/repo/json-shape.js';
import { META_LABELS, openJson, sealJson } from '../../../src/core/repo/sealed-json.js';
import { SafeName, TreeSchema } from '../../../src/core/repo/tree.js';
import { assertAgreeOnMutations, testHostileTables, viaJson, type HostileCase, type MutationVocabulary } from './oracle-checks.js';

// ---- the former zod schemas, verbatim: the oracle ----
const oracleHex64 = z.string().regex(/^[0-9a-f]{64}$/);
const OracleIndexFile = z
  .object({
    v: z.literal(1),
    packs: z.array(
      z
        .object({
          id: oracleHex64,
          size: z.number().int().positive(),
          blobs: z.array(
            z
              .object({
                id: oracleHex64,
                type: z.enum(['data', 'tree']),
                offset: z.number().int().nonnegative(),
                length: z.number().int().positive(),
                rawLength: z.number().int().nonnegative(),
              })
              .strict()
              .superRefine((b, ctx) => {
                if (b.rawLength > (b.type === 'tree' ? MAX_TREE_BLOB_BYTES : MAX_DATA_BLOB_BYTES)) ctx.addIssue({ code: 'custom', path: ['rawLength'], message: 'too large' });
              }),
          ),
        })
        .strict(),
    ),
    supersedes: z.array(oracleHex64).default([]),
  })
  .strict();
const OracleSafeName = z
  .string()
  .min(1)
  .max(1024)
  .refine((n) => n !== '.' && n !== '..' && !/[/\\\0]/.test(n), 'unsafe file name');
const oracleNsTime = z.string().regex(/^-?\d{1,22}$/);
const oracleCommon = { name: OracleSafeName, mode: z.number().int().min(0).max(0o7777), mtimeNs: oracleNsTime };
const oracleFile = {
  ...oracleCommon,
  type: z.literal('file'),
  size: z.number().int().nonnegative(),
  inode: z
    .string()
    .regex(/^\d{1,24}$/)
    .optional(),
  ctimeNs: oracleNsTime.optional(),
};
// A file's chunk ids are inline (`content`) or in chunk lists (`chunkLists`, at least one), never both.
const OracleTreeNode = z.union([
  z.object({ ...oracleFile, content: z.array(oracleHex64) }).strict(),
  z.object({ ...oracleFile, chunkLists: z.array(oracleHex64).min(1) }).strict(),
  z.object({ ...oracleCommon, type: z.literal('dir'), subtree: oracleHex64 }).strict(),
  z.object({ ...oracleCommon, type: z.literal('symlink'), target: z.string().min(1).max(4096).refine((t) => !t.includes('\0')) }).strict(),
]);
const OracleTree = z
  .object({ nodes: z.array(OracleTreeNode) })
  .strict()
  .refine((t) => t.nodes.every((n, i) => i === 0 || t.nodes[i - 1]!.name < n.name), 'entries must be sorted and unique');

// ---- valid documents ----
const hex = (label: string): string => createHash('sha256').update(label).digest('hex');

function validIndex(): Record<string, unknown> {
  return {
    v: 1,
    packs: [
      {
        id: hex('pack0'),
        size: 5000,
        blobs: [
          { id: hex('b0'), type: 'data', offset: 0, length: 1000, rawLength: 0 },
          { id: hex('b1'), type: 'tree', offset: 1000, length: 2000, rawLength: MAX_TREE_BLOB_BYTES },
          { id: hex('b2'), type: 'data', offset: 3000, length: 1, rawLength: 5 },
          { id: hex('b3'), type: 'data', offset: 3001, length: 1999, rawLength: 1999 },
        ],
      },
      { id: hex('pack1'), size: 1, blobs: [] },
    ],
    supersedes: [hex('old0'), hex('old1')],
  };
}

function validTree(): Record<string, unknown> {
  return {
    nodes: [
      { name: '.nomedia', type: 'file', mode: 0o644, mtimeNs: '1704067200123456789', size: 0, content: [] },
      { name: 'IMG 0001.jpg', type: 'file', mode: 0o600, mtimeNs: '-5', inode: '123456', ctimeNs: '0', size: 3, content: [hex('c0'), hex('c1')] },
      { name: 'Media', type: 'dir', mode: 0o7777, mtimeNs: '0', subtree: hex('t0') },
      { name: 'link', type: 'symlink', mode: 0o777, mtimeNs: '1', target: '../elsewhere/ok' },
      { name: 'z'.repeat(1024), type: 'file', mode: 0, mtimeNs: '9'.repeat(22), inode: '9'.repeat(24), size: Number.MAX_SAFE_INTEGER, content: [hex('c2')] },
      { name: 'ä€😀', type: 'symlink', mode: 0o755, mtimeNs: '2', target: '😀'.repeat(4096) },
      { name: 'ö.db', type: 'file', mode: 0o600, mtimeNs: '3', inode: '8', ctimeNs: '4', size: 40960, chunkLists: [hex('l0'), hex('l1')] },
    ],
  };
}

test('valid index files and trees are accepted and returned equal, as by the former schemas', () => {
  const cases: Array<[JsonValidator<unknown>, z.ZodType, unknown, unknown]> = [
    [IndexFileSchema, OracleIndexFile, validIndex(), validIndex()],
    [IndexFileSchema, OracleIndexFile, { v: 1, packs: [] }, { v: 1, packs: [], supersedes: [] }],
    [TreeSchema, OracleTree, validTree(), validTree()],
    [TreeSchema, OracleTree, { nodes: [] }, { nodes: [] }],
  ];
  for (const [schema, oracle, doc, expected] of cases) {
    const ours = schema.safeParse(viaJson(doc));
    const theirs = oracle.safeParse(viaJson(doc));
    assert.ok(ours.success && theirs.success, JSON.stringify(ours));
    // Chunk lists are held as bytes (`ChunkList`), and give back the same JSON.
    assert.deepEqual(viaJson(ours.data), expected);
    assert.deepEqual(viaJson(ours.data), theirs.data);
  }
  const parsed = TreeSchema.safeParse(viaJson(validTree()));
  assert.ok(parsed.success);
  for (const n of parsed.data.nodes) if (n.type === 'file') assert.ok((n.content ?? n.chunkLists) instanceof ChunkList);
});

// ---- hostile inputs ----
const HOSTILE_INDEX: HostileCase[] = [
  ['null', () => null, ''],
  ['an array', () => [], ''],
  ['a string', () => 'index', ''],
  ['wrong version', (d) => ({ ...d, v: 2 }), 'v'],
  ['version as a string', (d) => ({ ...d, v: '1' }), 'v'],
  ['missing packs', (d) => ({ v: 1, supersedes: d.supersedes }), 'packs'],
  ['packs as an object', (d) => ({ ...d, packs: { 0: d.packs[0] } }), 'packs'],
  ['an extra top-level key', (d) => ({ ...d, extra: true }), ''],
  ['an own __proto__ key', (d) => JSON.parse(JSON.stringify(d).replace('{"v":1', '{"__proto__":{"v":1},"v":1')), ''],
  ['a null pack', (d) => ((d.packs[1] = null), d), 'packs.1'],
  ['an extra pack key', (d) => ((d.packs[0].note = 'x'), d), 'packs.0'],
  ['uppercase pack id', (d) => ((d.packs[0].id = d.packs[0].id.toUpperCase()), d), 'packs.0.id'],
  ['short pack id', (d) => ((d.packs[0].id = d.packs[0].id.slice(1)), d), 'packs.0.id'],
  ['long pack id', (d) => ((d.packs[0].id += '0'), d), 'packs.0.id'],
  ['non-hex pack id', (d) => ((d.packs[0].id = 'g' + d.packs[0].id.slice(1)), d), 'packs.0.id'],
  ['pack id as a number', (d) => ((d.packs[0].id = 7), d), 'packs.0.id'],
  ['zero pack size', (d) => ((d.packs[1].size = 0), d), 'packs.1.size'],
  ['negative pack size', (d) => ((d.packs[1].size = -1), d), 'packs.1.size'],
  ['fractional pack size', (d) => ((d.packs[1].size = 1.5), d), 'packs.1.size'],
  ['huge pack size', (d) => ((d.packs[1].size = 2 ** 53), d), 'packs.1.size'],
  ['pack size 1e300', (d) => ((d.packs[1].size = 1e300), d), 'packs.1.size'],
  ['pack size as a string', (d) => ((d.packs[1].size = '1'), d), 'packs.1.size'],
  ['blobs as an object', (d) => ((d.packs[0].blobs = {}), d), 'packs.0.blobs'],
  ['a blob as an array', (d) => ((d.packs[0].blobs[2] = ['x']), d), 'packs.0.blobs.2'],
  ['uppercase blob id', (d) => ((d.packs[0].blobs[3].id = d.packs[0].blobs[3].id.toUpperCase()), d), 'packs.0.blobs.3.id'],
  ['blob id with a newline', (d) => ((d.packs[0].blobs[3].id = d.packs[0].blobs[3].id.slice(1) + '\n'), d), 'packs.0.blobs.3.id'],
  ['unknown blob type', (d) => ((d.packs[0].blobs[0].type = 'snapshot'), d), 'packs.0.blobs.0.type'],
  ['inherited name as blob type', (d) => ((d.packs[0].blobs[0].type = 'toString'), d), 'packs.0.blobs.0.type'],
  ['negative offset', (d) => ((d.packs[0].blobs[0].offset = -1), d), 'packs.0.blobs.0.offset'],
  ['offset as null', (d) => ((d.packs[0].blobs[0].offset = null), d), 'packs.0.blobs.0.offset'],
  ['zero length', (d) => ((d.packs[0].blobs[1].length = 0), d), 'packs.0.blobs.1.length'],
  ['fractional length', (d) => ((d.packs[0].blobs[1].length = 0.5), d), 'packs.0.blobs.1.length'],
  ['tree rawLength over MAX_TREE_BLOB_BYTES', (d) => ((d.packs[0].blobs[1].rawLength = MAX_TREE_BLOB_BYTES + 1), d), 'packs.0.blobs.1.rawLength'],
  ['data rawLength over MAX_DATA_BLOB_BYTES', (d) => ((d.packs[0].blobs[3].rawLength = MAX_DATA_BLOB_BYTES + 1), d), 'packs.0.blobs.3.rawLength'],
  ['negative rawLength', (d) => ((d.packs[0].blobs[1].rawLength = -1), d), 'packs.0.blobs.1.rawLength'],
  ['missing rawLength', (d) => (delete d.packs[0].blobs[2].rawLength, d), 'packs.0.blobs.2.rawLength'],
  ['an extra blob key', (d) => ((d.packs[0].blobs[2].plaintext = 'hello'), d), 'packs.0.blobs.2'],
  ['supersedes as a string', (d) => ({ ...d, supersedes: hex('x') }), 'supersedes'],
  ['supersedes with a short id', (d) => ((d.supersedes[1] = 'abc'), d), 'supersedes.1'],
  ['supersedes as null', (d) => ({ ...d, supersedes: null }), 'supersedes'],
];

const HOSTILE_TREE: HostileCase[] = [
  ['null', () => null, ''],
  ['an array of nodes', (d) => d.nodes, ''],
  ['nodes missing', () => ({}), 'nodes'],
  ['nodes as an object', (d) => ({ nodes: { ...d.nodes } }), 'nodes'],
  ['an extra top-level key', (d) => ({ ...d, parent: hex('p') }), ''],
  ['a null node', (d) => ((d.nodes[2] = null), d), 'nodes.2'],
  ['a node as an array', (d) => ((d.nodes[2] = []), d), 'nodes.2'],
  ['unknown node type', (d) => ((d.nodes[2].type = 'fifo'), d), 'nodes.2.type'],
  ['missing node type', (d) => (delete d.nodes[2].type, d), 'nodes.2.type'],
  ['name ..', (d) => ((d.nodes[0].name = '..'), d), 'nodes.0.name'],
  ['name .', (d) => ((d.nodes[0].name = '.'), d), 'nodes.0.name'],
  ['empty name', (d) => ((d.nodes[0].name = ''), d), 'nodes.0.name'],
  ['name with a slash', (d) => ((d.nodes[1].name = 'IMG/0001.jpg'), d), 'nodes.1.name'],
  ['name with a backslash', (d) => ((d.nodes[1].name = 'IMG\\0001.jpg'), d), 'nodes.1.name'],
  ['name with NUL', (d) => ((d.nodes[1].name = 'IMG\u00000001.jpg'), d), 'nodes.1.name'],
  ['name of 1025 characters', (d) => ((d.nodes[4].name = 'z'.repeat(1025)), d), 'nodes.4.name'],
  ['name of 1025 code points', (d) => ((d.nodes[5].name = '😀'.repeat(1025)), d), 'nodes.5.name'],
  ['name as a number', (d) => ((d.nodes[0].name = 1), d), 'nodes.0.name'],
  ['unsorted names', (d) => (([d.nodes[1], d.nodes[2]] = [d.nodes[2], d.nodes[1]]), d), 'nodes.2.name'],
  ['duplicate names', (d) => ((d.nodes[3].name = 'Media'), d), 'nodes.3.name'],
  ['negative mode', (d) => ((d.nodes[0].mode = -1), d), 'nodes.0.mode'],
  ['mode over 0o7777', (d) => ((d.nodes[0].mode = 0o10000), d), 'nodes.0.mode'],
  ['fractional mode', (d) => ((d.nodes[0].mode = 420.5), d), 'nodes.0.mode'],
  ['mtime as a number', (d) => ((d.nodes[0].mtimeNs = 17), d), 'nodes.0.mtimeNs'],
  ['mtime with 23 digits', (d) => ((d.nodes[0].mtimeNs = '1'.repeat(23)), d), 'nodes.0.mtimeNs'],
  ['mtime of a lone minus', (d) => ((d.nodes[0].mtimeNs = '-'), d), 'nodes.0.mtimeNs'],
  ['mtime with a plus', (d) => ((d.nodes[0].mtimeNs = '+5'), d), 'nodes.0.mtimeNs'],
  ['mtime with non-ASCII digits', (d) => ((d.nodes[0].mtimeNs = '١٢٣'), d), 'nodes.0.mtimeNs'],
  ['negative size', (d) => ((d.nodes[0].size = -1), d), 'nodes.0.size'],
  ['huge size', (d) => ((d.nodes[0].size = 2 ** 60), d), 'nodes.0.size'],
  ['content as a string', (d) => ((d.nodes[1].content = hex('c')), d), 'nodes.1.content'],
  ['short content id', (d) => ((d.nodes[1].content[1] = 'abcd'), d), 'nodes.1.content.1'],
  ['uppercase content id', (d) => ((d.nodes[1].content[0] = d.nodes[1].content[0].toUpperCase()), d), 'nodes.1.content.0'],
  ['negative inode', (d) => ((d.nodes[1].inode = '-1'), d), 'nodes.1.inode'],
  ['inode with 25 digits', (d) => ((d.nodes[1].inode = '1'.repeat(25)), d), 'nodes.1.inode'],
  ['inode as a number', (d) => ((d.nodes[1].inode = 123456), d), 'nodes.1.inode'],
  ['ctime as null', (d) => ((d.nodes[1].ctimeNs = null), d), 'nodes.1.ctimeNs'],
  ['a file with a subtree', (d) => ((d.nodes[0].subtree = hex('t')), d), 'nodes.0'],
  ['a dir with content', (d) => ((d.nodes[2].content = []), d), 'nodes.2'],
  ['a dir without subtree', (d) => (delete d.nodes[2].subtree, d), 'nodes.2.subtree'],
  ['a short subtree id', (d) => ((d.nodes[2].subtree = 'ab'), d), 'nodes.2.subtree'],
  ['an empty link target', (d) => ((d.nodes[3].target = ''), d), 'nodes.3.target'],
  ['a link target with NUL', (d) => ((d.nodes[3].target = 'a\u0000b'), d), 'nodes.3.target'],
  ['a link target of 4097 code points', (d) => ((d.nodes[5].target = '😀'.repeat(4097)), d), 'nodes.5.target'],
  ['a symlink with a size', (d) => ((d.nodes[3].size = 1), d), 'nodes.3'],
  ['a file with content and chunk lists', (d) => ((d.nodes[6].content = []), d), 'nodes.6'],
  ['a file with neither content nor chunk lists', (d) => (delete d.nodes[6].chunkLists, d), 'nodes.6.content'],
  ['empty chunk lists', (d) => ((d.nodes[6].chunkLists = []), d), 'nodes.6.chunkLists'],
  ['chunk lists as a string', (d) => ((d.nodes[6].chunkLists = hex('l')), d), 'nodes.6.chunkLists'],
  ['a short chunk list id', (d) => ((d.nodes[6].chunkLists[1] = 'abcd'), d), 'nodes.6.chunkLists.1'],
  ['a dir with chunk lists', (d) => ((d.nodes[2].chunkLists = [hex('l')]), d), 'nodes.2'],
];

testHostileTables([
  ['index file', IndexFileSchema, OracleIndexFile, validIndex, HOSTILE_INDEX],
  ['tree', TreeSchema, OracleTree, validTree, HOSTILE_TREE],
]);

test('SafeName keeps the former rules for other callers', () => {
  for (const ok of ['a', 'msgstore.db', '...', '.a', 'a..b', 'x'.repeat(1024), '😀'.repeat(1024)]) assert.equal(SafeName.safeParse(ok).success, true, ok);
  for (const bad of ['', '.', '..', 'a/b', 'a\\b', 'a\0', 'x'.repeat(1025), 5, null]) assert.equal(SafeName.safeParse(bad).success, false, String(bad));
});

test('a malformed sealed index file is an IntegrityError naming the path of the bad field', () => {
  const key = randomBytes(32);
  const doc = validIndex() as { packs: Array<{ blobs: Array<{ id: string }> }> };
  doc.packs[0]!.blobs[3]!.id = 'nothex';
  const { bytes, name } = sealJson(key, META_LABELS.index, doc);
  assert.throws(
    () => openJson(key, META_LABELS.index, bytes, `index/${name}`, IndexFileSchema, name),
    (e: unknown) => e instanceof IntegrityError && e.message === `index/${name}: is malformed (packs.0.blobs.3.id)`,
  );
  const good = sealJson(key, META_LABELS.index, validIndex());
  assert.deepEqual(openJson(key, META_LABELS.index, good.bytes, 'index/x', IndexFileSchema, good.name), validIndex());
});

// ---- differential: random mutations of valid documents ----

/** Values that sit on or next to a boundary of some rule. */
const VALUES: unknown[] = [
  null, true, false, 0, -0, 1, -1, 1.5, 2, 5, 0o777, 0o7777, 0o10000, 2 ** 53 - 1, 2 ** 53, 1e300, MAX_DATA_BLOB_BYTES, MAX_DATA_BLOB_BYTES + 1, MAX_TREE_BLOB_BYTES, MAX_TREE_BLOB_BYTES + 1,
  '', '.', '..', '...', 'a', 'a/b', 'a\\b', 'a\0b', '0', '-0', '-', '+1', '12', '9'.repeat(22), '9'.repeat(23), '-' + '9'.repeat(22), '9'.repeat(24), '9'.repeat(25),
  'x'.repeat(1024), 'x'.repeat(1025), '😀'.repeat(1024), '😀'.repeat(1025), '\ud800'.repeat(1024), '\ud800'.repeat(1025), '😀'.repeat(4096), '😀'.repeat(4097),
  hex('v'), hex('w'), hex('v').toUpperCase(), hex('v').slice(1), hex('v') + 'a', hex('v').slice(1) + 'G', hex('v').slice(1) + '\n',
  'data', 'tree', 'file', 'dir', 'symlink', 'toString', 'a0', 'Z', 'Ä', '😀',
  [], {}, [hex('q')], ['x'],
];
const KEYS = ['v', 'packs', 'supersedes', 'id', 'size', 'blobs', 'type', 'offset', 'length', 'rawLength', 'nodes', 'name', 'mode', 'mtimeNs', 'content', 'chunkLists', 'inode', 'ctimeNs', 'subtree', 'target', 'extra', '__proto__'];

const VOCABULARY: MutationVocabulary = { values: VALUES, keys: KEYS, fragments: ['a', 'f', 'g', '0', '9', '-', '/', '.', 'A', '', '😀'] };

for (const [kind, validator, oracle, make, seed] of [
  ['index file', IndexFileSchema, OracleIndexFile, validIndex, 20261127],
  ['tree', TreeSchema, OracleTree, validTree, 4242],
] as const) {
  test(`${kind}s: the validator and the former zod schema agree on 3,000 mutated documents`, () => {
    assertAgreeOnMutations({ validator, oracle, make, seed, documents: 3000, vocabulary: VOCABULARY, sameKeyOrder: false });
  });
}
