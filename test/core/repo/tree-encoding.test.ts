import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { ChunkList } from '../../../src/core/repo/chunk-list.js';
import { encodeTree, TreeSchema, type Tree, type TreeNode } from '../../../src/core/repo/tree.js';

const id = (n: number) => createHash('sha256').update(`chunk ${n}`).digest('hex');

test('a tree encodes to the bytes of its JSON.stringify, at the start of its buffer', () => {
  const file = (name: string, content: string[], extra: Partial<TreeNode> = {}): TreeNode =>
    ({ name, type: 'file', mode: 0o644, mtimeNs: '1700000000123456789', inode: '42', ctimeNs: '1700000000000000001', size: content.length * 4096, content: ChunkList.ofHex(content), ...extra }) as TreeNode;
  const trees: Tree[] = [
    { nodes: [] },
    { nodes: [file('empty', [])] },
    { nodes: [file('msgstore.db', Array.from({ length: 5000 }, (_, i) => id(i)))] },
    {
      nodes: [
        { name: 'Media', type: 'dir', mode: 0o755, mtimeNs: '1', subtree: id(1) },
        { name: 'link', type: 'symlink', mode: 0o777, mtimeNs: '2', target: '../a "quoted" \\ path\n' },
        file('Émoji 😀 "quotes" \\ and \u0001 control', [id(2), id(3)]),
        file('no inode', [id(4)], { inode: undefined, ctimeNs: undefined }),
        // Keys in another order, content not last, and content that is not a chunk list: written as given.
        { content: [id(5), 'NOT-HEX "x"'], name: 'odd', size: 1, type: 'file', mode: 1, mtimeNs: '3' } as unknown as TreeNode,
        { name: 'lone \ud800 surrogate', type: 'file', mode: 0, mtimeNs: '4', size: 0, content: ChunkList.EMPTY } as TreeNode,
      ],
    },
  ];
  for (const tree of trees) {
    const bytes = encodeTree(tree);
    assert.deepEqual(bytes, Buffer.from(JSON.stringify(tree), 'utf8'));
    assert.equal(bytes.byteOffset, 0, 'the tree starts its buffer: it can be handed to a worker without a copy');
  }
});

test('a file with chunk lists is written with them in place of its content, and parses back to the same lists', () => {
  const lists = ChunkList.ofHex([id(10), id(11)]);
  const content = ChunkList.ofHex(Array.from({ length: 3 }, (_, i) => id(20 + i)));
  const node: TreeNode = { name: 'msgstore.db', type: 'file', mode: 0o600, mtimeNs: '5', inode: '7', ctimeNs: '6', size: 3 * 4096, content, chunkLists: lists };
  const bytes = encodeTree({ nodes: [node] });
  const { content: _dropped, ...stored } = node;
  assert.deepEqual(bytes, Buffer.from(JSON.stringify({ nodes: [stored] }), 'utf8'));
  assert.ok(!bytes.toString('utf8').includes('"content"'));
  const parsed = TreeSchema.safeParse(JSON.parse(bytes.toString('utf8')));
  assert.ok(parsed.success);
  const back = parsed.data.nodes[0]!;
  assert.ok(back.type === 'file' && back.content === undefined && back.chunkLists?.equals(lists));
});
