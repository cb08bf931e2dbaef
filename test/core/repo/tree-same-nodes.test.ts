import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ChunkList } from '../../../src/core/repo/chunk-list.js';
import { encodeTree, sameNodes, sortNodes, TreeSchema, type StoredTreeNode, type TreeNode } from '../../../src/core/repo/tree.js';

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
