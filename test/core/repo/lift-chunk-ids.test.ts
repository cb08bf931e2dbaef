import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { liftChunkIds } from '../../../src/core/repo/lift-chunk-ids.js';
import { ChunkList } from '../../../src/core/repo/chunk-list.js';
import { encodeTree, sortNodes, treeFromBytes, TreeSchema, type Tree, type TreeNode } from '../../../src/core/repo/tree.js';

const hexId = () => randomBytes(32).toString('hex');

/** What the whole-text parse decides: the tree as JSON, or the error's path and message. */
function wholeParse(text: string): unknown {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return 'not JSON';
  }
  const r = TreeSchema.safeParse(json);
  return r.success ? JSON.stringify(r.data) : r.error.issues[0];
}

/** The same for `treeFromBytes`, which lifts the ids first when it can. */
function liftedParse(text: string): unknown {
  try {
    return JSON.stringify(treeFromBytes(Buffer.from(text)));
  } catch (e) {
    if (e instanceof SyntaxError) return 'not JSON';
    const m = e as { path: PropertyKey[]; message: string };
    return { path: m.path, message: m.message };
  }
}

function sampleTree(): Tree {
  // Names may hold quotes and the key's own text, but no backslash (a tree refuses it in a name).
  const names = ['a', 'IMG "content":[ x.jpg', '"content":["', 'ünïcödé 📷', 'msgstore.db', 'z'];
  const nodes: TreeNode[] = names.map((name, i) => ({
    name,
    type: 'file',
    mode: 0o644,
    mtimeNs: `170000000000000000${i}`,
    inode: `${1000 + i}`,
    ctimeNs: '1700000000000000001',
    size: i * 100,
    content: ChunkList.ofHex(Array.from({ length: [1, 0, 2, 1, 500, 3][i]! }, hexId)),
  }));
  nodes.push({ name: 'Media', type: 'dir', mode: 0o755, mtimeNs: '1', subtree: hexId() });
  nodes.push({ name: 'link "content":["', type: 'symlink', mode: 0o777, mtimeNs: '2', target: '../"content":[\\' });
  return { nodes: sortNodes(nodes) };
}

test('a tree as written, and pretty-printed, parses to the same tree with its ids lifted out of the text', () => {
  const tree = sampleTree();
  for (const text of [encodeTree(tree).toString('utf8'), JSON.stringify(tree, null, 2), JSON.stringify(tree, null, '\t').replace(/\n/g, '\r\n')]) {
    const lifted = liftChunkIds(Buffer.from(text));
    assert.ok(lifted, 'the plain form is lifted');
    assert.equal(lifted.firsts.length, 6, 'one list per file');
    assert.equal(lifted.ids.length, 507 * 32);
    assert.ok(lifted.text.length < text.length / 10, `the text left to parse is ${lifted.text.length} of ${text.length} characters`);
    assert.ok(liftedParse(text) === JSON.stringify(tree), 'the same tree');
    assert.ok(liftedParse(text) === wholeParse(text), 'as the whole parse gives it');
  }
});

test('a text that grows as its lists are taken out (empty files, numbered past two digits), and ids held at their own size', () => {
  const nodes: TreeNode[] = Array.from({ length: 2000 }, (_, i) => ({ name: `empty ${String(i).padStart(4, '0')}`, type: 'file', mode: 0o644, mtimeNs: '1', size: 0, content: ChunkList.EMPTY }));
  nodes.push({ name: 'one id', type: 'file', mode: 0o644, mtimeNs: '1', size: 1, content: ChunkList.ofHex([hexId()]) });
  const text = JSON.stringify({ nodes: sortNodes(nodes) });
  const lifted = liftChunkIds(Buffer.from(text));
  assert.ok(lifted);
  assert.ok(lifted.text.length > text.length, 'each "[]" became a longer number');
  assert.equal(lifted.firsts.length, 2001);
  assert.equal(lifted.ids.length, 32);
  assert.equal(lifted.ids.buffer.byteLength, 32, 'not a view of an array sized for every id the text could hold');
  assert.equal(liftedParse(text), wholeParse(text));
});

test('anything but the plain form is parsed whole, and decided exactly as before', () => {
  const text = encodeTree(sampleTree()).toString('utf8');
  const id = /[0-9a-f]{64}/.exec(text.slice(text.indexOf('"content"')))![0];
  const variants: Array<[string, string]> = [
    ['an upper-case id', text.replace(id, id.toUpperCase())],
    ['a content that is a number', text.replace(/"content":\[[^\]]*\]/, '"content":0')],
    ['a key spelled with an escape, holding a number', text.replace(/"content":\[\]/, '"cont\\u0065nt":0')],
    ['a key spelled with an escape, holding a list', text.replace(/"content":\[\]/, `"cont\\u0065nt":["${id}"]`)],
    ['the key twice in one node', text.replace(/"content":\[\]/, `"content":["${id}"],"content":[]`)],
    ['an id too short', text.replace(id, id.slice(2))],
    ['an element that is not a string', text.replace(`"${id}"`, '7')],
    ['a trailing comma', text.replace(/("[0-9a-f]{64}")\]/, '$1,]')],
    ['cut short inside a list', text.slice(0, text.indexOf(id) + 10)],
    ['an unknown key', text.replace('"size":0', '"size":0,"extra":1')],
  ];
  for (const [what, variant] of variants) {
    assert.notEqual(variant, text, `${what}: the variant differs`);
    const [lifted, whole] = [liftedParse(variant), wholeParse(variant)];
    assert.ok(JSON.stringify(lifted) === JSON.stringify(whole), `${what}: ${JSON.stringify(lifted).slice(0, 200)} against ${JSON.stringify(whole).slice(0, 200)}`);
  }
  // The key spelled with escapes and a list is still a tree (JSON.parse reads the same key).
  assert.equal(typeof liftedParse(variants[3]![1]), 'string');
  // A number where a list belongs is refused, even when it names a lifted list.
  const refused = liftedParse(variants[2]![1]) as { path: PropertyKey[]; message: string };
  assert.equal(refused.message, 'expected an array');
  assert.equal(refused.path[2], 'content');
});

test('random cuts and byte flips of a tree: lifting never decides differently from the whole parse', () => {
  const text = encodeTree(sampleTree()).toString('utf8');
  let seed = 7;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
  const alphabet = '"[],: \\0af9Fx}{';
  for (let round = 0; round < 2000; round++) {
    let v = text;
    if (round % 4 === 0) v = v.slice(0, next() % v.length);
    else {
      const at = next() % v.length;
      v = v.slice(0, at) + alphabet[next() % alphabet.length] + v.slice(at + 1);
    }
    const [lifted, whole] = [liftedParse(v), wholeParse(v)];
    assert.ok(JSON.stringify(lifted) === JSON.stringify(whole), `round ${round}: ${JSON.stringify(lifted).slice(0, 200)} against ${JSON.stringify(whole).slice(0, 200)}`);
  }
});
