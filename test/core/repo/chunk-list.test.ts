import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { ChunkList } from '../../../src/core/repo/chunk-list.js';
import { JsonBytes } from '../../../src/core/repo/json-bytes.js';
import { TreeSchema, type FileNode } from '../../../src/core/repo/tree.js';

const id = (n: number) => createHash('sha256').update(`chunk ${n}`).digest('hex');

test('a chunk list gives back its ids as hex, as bytes, and as the JSON array it was made from', () => {
  const ids = [id(1), id(2), id(3)];
  const list = ChunkList.ofHex(ids);
  assert.equal(list.length, 3);
  assert.deepEqual([...list], ids);
  assert.equal(list.hex(1), ids[1]);
  assert.deepEqual(Buffer.from(list.id(2)), Buffer.from(ids[2]!, 'hex'));
  assert.deepEqual(Buffer.from(list.bytes()), Buffer.from(ids.join(''), 'hex'));
  assert.equal(JSON.stringify({ content: list }), JSON.stringify({ content: ids }));
  const w = new JsonBytes(1);
  list.writeJson(w);
  assert.equal(w.bytes().toString('latin1'), JSON.stringify(ids));
  assert.equal(list.jsonLength, JSON.stringify(ids).length);
  assert.equal(ChunkList.EMPTY.jsonLength, 2);
  assert.throws(() => list.id(3), RangeError);
  assert.throws(() => list.hex(-1), RangeError);
});

test('equal lists are the same ids in the same order', () => {
  const a = ChunkList.ofHex([id(1), id(2)]);
  assert.equal(a.equals(ChunkList.ofHex([id(1), id(2)])), true);
  assert.equal(a.equals(ChunkList.ofHex([id(2), id(1)])), false);
  assert.equal(a.equals(ChunkList.ofHex([id(1)])), false);
  assert.equal(ChunkList.EMPTY.equals(ChunkList.ofHex([])), true);
  assert.equal(ChunkList.ofBytes(Buffer.from(id(1) + id(2), 'hex')).equals(a), true);
});

test('malformed ids and byte lengths are refused', () => {
  assert.throws(() => ChunkList.ofHex([id(1).toUpperCase()]), /not 64 hex digits/);
  assert.throws(() => ChunkList.ofHex([id(1).slice(1)]), /not 64 hex digits/);
  assert.throws(() => ChunkList.ofHex([42]), /not 64 hex digits/);
  assert.throws(() => ChunkList.ofBytes(new Uint8Array(33)), /multiple of 32/);
});

test('the files of a parsed tree share one array of ids, each seeing only its own', () => {
  const names = ['a', 'b', 'c', 'd'];
  const json = {
    nodes: names.map((name, i) => ({ name, type: 'file', mode: 0o644, mtimeNs: '1', size: i, content: Array.from({ length: i }, (_, j) => id(10 * i + j)) })),
  };
  const parsed = TreeSchema.safeParse(JSON.parse(JSON.stringify(json)));
  assert.ok(parsed.success);
  const lists = (parsed.data.nodes as FileNode[]).map((n) => n.content);
  lists.forEach((list, i) => assert.deepEqual([...list], json.nodes[i]!.content));
  const arenas = new Set(lists.filter((l) => l.length > 0).map((l) => l.bytes().buffer));
  assert.equal(arenas.size, 1);
  assert.equal([...arenas][0]!.byteLength, 32 * (0 + 1 + 2 + 3));
});
