import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ChunkList } from '../../../src/core/repo/chunk-list.js';
import { encodeTree, ListingEncoder, sortNodes, TreeSchema, type ListingNode, type StoredTreeNode, type TreeNode } from '../../../src/core/repo/tree.js';

/** Whether a listing of `a`, against the previous listing `b`, is found unchanged. */
function sameNodes(a: readonly ListingNode[], b: readonly StoredTreeNode[]): boolean {
  const listing = new ListingEncoder(b, a.length);
  for (const n of a) listing.add(n);
  return listing.unchanged;
}

/** A listing's bytes, written against a previous listing. */
function listed(a: readonly ListingNode[], previous: readonly StoredTreeNode[] | null, expected = a.length): Buffer {
  const listing = new ListingEncoder(previous, expected);
  for (const n of a) listing.add(n);
  const { buffer, length } = listing.take();
  return Buffer.from(buffer, 0, length);
}

const id = (n: number) => n.toString(16).padStart(64, '0');

function nodes(): TreeNode[] {
  return [
    { name: 'a.db', type: 'file', mode: 0o644, mtimeNs: '1700000000000000001', inode: '42', ctimeNs: '1700000000000000002', size: 8192, content: ChunkList.ofHex([id(1), id(2)]) },
    { name: 'Media', type: 'dir', mode: 0o755, mtimeNs: '1700000000000000003', subtree: id(3) },
    { name: 'link', type: 'symlink', mode: 0o777, mtimeNs: '1700000000000000004', target: 'a.db' },
    { name: 'z.jpg', type: 'file', mode: 0o600, mtimeNs: '1700000000000000005', size: 0, content: ChunkList.EMPTY },
  ];
}

test('entries that compare the same encode to the same bytes, so a directory keeps its tree id', () => {
  const a = sortNodes(nodes());
  // As read back from storage: new objects, strings and chunk lists.
  const parsed = TreeSchema.safeParse(JSON.parse(JSON.stringify({ nodes: sortNodes(nodes()) })));
  assert.ok(parsed.success);
  const b = parsed.data.nodes;
  const chunks = (n: ReadonlyArray<TreeNode | StoredTreeNode>) => (n.find((x) => x.name === 'a.db') as { content: ChunkList }).content;
  assert.notEqual(chunks(b), chunks(a));
  assert.equal(chunks(b).length, 2);
  assert.equal(sameNodes(a, b), true);
  // Stored with their chunk ids inline, so as read they are whole nodes.
  assert.deepEqual(encodeTree({ nodes: a }), encodeTree({ nodes: b as TreeNode[] }));
});

test('a file with chunk lists compares by its lists, as stored, whatever ids it holds in memory', () => {
  const lists = ChunkList.ofHex([id(7), id(8)]);
  const node = { name: 'msgstore.db', type: 'file', mode: 0o600, mtimeNs: '1', inode: '2', ctimeNs: '3', size: 40960, content: ChunkList.ofHex([id(1), id(2)]), chunkLists: lists } as const;
  const parsed = TreeSchema.safeParse(JSON.parse(encodeTree({ nodes: [node] }).toString('utf8')));
  assert.ok(parsed.success);
  assert.equal(sameNodes([node], parsed.data.nodes), true);
  assert.equal(sameNodes([{ ...node, content: ChunkList.EMPTY }], parsed.data.nodes), true, 'the ids in memory are not what is stored');
  assert.equal(sameNodes([{ ...node, chunkLists: ChunkList.ofHex([id(7), id(9)]) }], parsed.data.nodes), false);
  const { chunkLists: _lists, ...inline } = node;
  assert.equal(sameNodes([inline], parsed.data.nodes), false, 'inline ids are not the same listing as chunk lists');
});

test('any difference a tree would record (a value, a chunk, a key, key order, an entry) is seen', () => {
  const changes: Array<[string, (n: TreeNode[]) => void]> = [
    ['mode', (n) => ((n[0] as { mode: number }).mode = 0o600)],
    ['mtime', (n) => ((n[1] as { mtimeNs: string }).mtimeNs = '1')],
    ['one chunk', (n) => ((n[0] as { content: ChunkList }).content = ChunkList.ofHex([id(1), id(9)]))],
    ['one chunk more', (n) => ((n[0] as { content: ChunkList }).content = ChunkList.ofHex([id(1), id(2), id(9)]))],
    ['chunks swapped', (n) => ((n[0] as { content: ChunkList }).content = ChunkList.ofHex([id(2), id(1)]))],
    ['subtree', (n) => ((n[1] as { subtree: string }).subtree = id(8))],
    ['link target', (n) => ((n[2] as { target: string }).target = 'b')],
    ['key dropped', (n) => delete (n[0] as { inode?: string }).inode],
    ['key order', (n) => {
      const { name, type, ...rest } = n[3] as TreeNode & { type: 'file' };
      n[3] = { type, name, ...rest } as TreeNode;
    }],
    ['entry removed', (n) => n.pop()],
    ['size as text', (n) => ((n[0] as unknown as { size: string }).size = '8192')],
  ];
  for (const [what, change] of changes) {
    const b = nodes();
    change(b);
    // None of these has chunk lists, so each is a node as stored too.
    assert.equal(sameNodes(nodes(), b as StoredTreeNode[]), false, what);
    assert.notDeepEqual(encodeTree({ nodes: nodes() }), encodeTree({ nodes: b }), `${what} changes the encoding too`);
  }
});

test('a listing that differs from the previous one is written whole, the matching nodes as the previous listing has them', () => {
  const stored = (n: TreeNode[]): StoredTreeNode[] => {
    const parsed = TreeSchema.safeParse(JSON.parse(encodeTree({ nodes: n }).toString('utf8')));
    assert.ok(parsed.success);
    return parsed.data.nodes;
  };
  const before = sortNodes(nodes());
  const cases: Array<[string, TreeNode[]]> = [
    ['the same', sortNodes(nodes())],
    ['the last node changed', sortNodes(nodes()).map((n) => (n.name === 'z.jpg' ? { ...n, mode: 0o644 } : n))],
    ['the first node changed', sortNodes(nodes()).map((n, i) => (i === 0 ? { ...n, mtimeNs: '9' } : n))],
    ['a node fewer', sortNodes(nodes()).slice(0, 3)],
    ['a node more', [...sortNodes(nodes()), { name: 'zz', type: 'dir', mode: 0o700, mtimeNs: '7', subtree: id(9) }]],
    ['no nodes', []],
  ];
  for (const [what, after] of cases) {
    const text = listed(after, stored(before));
    assert.deepEqual(text, Buffer.from(JSON.stringify({ nodes: after }), 'utf8'), what);
    assert.equal(sameNodes(after, stored(before)), what === 'the same', what);
  }
  assert.equal(sameNodes([], []), true, 'an empty folder that stays empty');
});

test('a listing grows past the size guessed for its nodes, and its bytes start a buffer that can move to a worker', () => {
  const many: TreeNode[] = Array.from({ length: 300 }, (_, i) => ({
    name: `IMG-${String(i).padStart(5, '0')}-${'x'.repeat(200)}.jpg`,
    type: 'file',
    mode: 0o644,
    mtimeNs: '1700000000000000001',
    size: i,
    content: ChunkList.ofHex([id(i), id(i + 1)]),
  }));
  const want = Buffer.from(JSON.stringify({ nodes: many }), 'utf8');
  for (const expected of [0, 1, many.length]) assert.deepEqual(listed(many, null, expected), want, `${expected} nodes expected`);
  const listing = new ListingEncoder(null, 1);
  for (const n of many) listing.add(n);
  assert.equal(listing.byteLength, want.length - 2, 'all but the closing brackets, as written so far');
  assert.deepEqual(listing.largest, { name: many[0]!.name, chunks: 2 });
  const { buffer, length } = listing.take();
  assert.ok(buffer instanceof ArrayBuffer && buffer.byteLength >= length);
  assert.equal(length, want.length);
});
