import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeTree, sameNodes, type TreeNode } from '../../../src/core/repo/tree.js';

const id = (n: number) => n.toString(16).padStart(64, '0');

function nodes(): TreeNode[] {
  return [
    { name: 'a.db', type: 'file', mode: 0o644, mtimeNs: '1700000000000000001', inode: '42', ctimeNs: '1700000000000000002', size: 8192, content: [id(1), id(2)] },
    { name: 'Media', type: 'dir', mode: 0o755, mtimeNs: '1700000000000000003', subtree: id(3) },
    { name: 'link', type: 'symlink', mode: 0o777, mtimeNs: '1700000000000000004', target: 'a.db' },
    { name: 'z.jpg', type: 'file', mode: 0o600, mtimeNs: '1700000000000000005', size: 0, content: [] },
  ];
}

test('entries that compare the same encode to the same bytes, so a directory keeps its tree id', () => {
  const a = nodes();
  const b = JSON.parse(JSON.stringify(nodes())) as TreeNode[]; // as read back from storage: new arrays and strings
  assert.equal(sameNodes(a, b), true);
  assert.deepEqual(encodeTree({ nodes: a }), encodeTree({ nodes: b }));
});

test('any difference a tree would record (a value, a chunk, a key, key order, an entry) is seen', () => {
  const changes: Array<[string, (n: TreeNode[]) => void]> = [
    ['mode', (n) => ((n[0] as { mode: number }).mode = 0o600)],
    ['mtime', (n) => ((n[1] as { mtimeNs: string }).mtimeNs = '1')],
    ['one chunk', (n) => ((n[0] as { content: string[] }).content[1] = id(9))],
    ['one chunk more', (n) => (n[0] as { content: string[] }).content.push(id(9))],
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
    assert.equal(sameNodes(nodes(), b), false, what);
    assert.notDeepEqual(encodeTree({ nodes: nodes() }), encodeTree({ nodes: b }), `${what} changes the encoding too`);
  }
});
