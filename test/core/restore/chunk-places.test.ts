import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { IntegrityError } from '../../../src/core/errors.js';
import { ChunkList } from '../../../src/core/repo/chunk-list.js';
import { MasterIndex } from '../../../src/core/repo/master-index.js';
import { ChunkPlaces } from '../../../src/core/restore/chunk-places.js';

const hexId = (n: number) => createHash('sha256').update(`blob ${n}`).digest('hex');
const packId = (n: number) => createHash('sha256').update(`pack ${n}`).digest('hex');
const file = (...blobs: number[]) => ({ content: ChunkList.ofHex(blobs.map(hexId)) });

/** Pack 1: data blobs 1-3 and tree blob 9; pack 2: data blob 4 past 4 GiB, then blob 5. */
function twoPacks(): MasterIndex {
  const index = new MasterIndex();
  index.addFile('i1', {
    v: 1,
    packs: [
      {
        id: packId(1),
        size: 1000,
        blobs: [
          { id: hexId(1), type: 'data', offset: 0, length: 100, rawLength: 80 },
          { id: hexId(2), type: 'data', offset: 100, length: 200, rawLength: 180 },
          { id: hexId(3), type: 'data', offset: 300, length: 50, rawLength: 30 },
          { id: hexId(9), type: 'tree', offset: 350, length: 60, rawLength: 40 },
        ],
      },
      {
        id: packId(2),
        size: 2 ** 33,
        blobs: [
          { id: hexId(4), type: 'data', offset: 2 ** 32 + 7, length: 100, rawLength: 90 },
          { id: hexId(5), type: 'data', offset: 11, length: 40, rawLength: 20 },
        ],
      },
    ],
    supersedes: [],
  });
  return index;
}

test('ChunkPlaces resolves every chunk of the files in order, repeats included, each pack numbered once', () => {
  const index = twoPacks();
  const places = ChunkPlaces.resolve([file(2, 1), file(), file(5, 2, 4, 3)], index);
  assert.equal(places.count, 6);
  const got = Array.from({ length: places.count }, (_, k) => [places.packs[places.pack(k)], places.offset(k), places.length(k), places.rawLength(k)]);
  assert.deepEqual(got, [
    [packId(1), 100, 200, 180],
    [packId(1), 0, 100, 80],
    [packId(2), 11, 40, 20],
    [packId(1), 100, 200, 180],
    [packId(2), 2 ** 32 + 7, 100, 90],
    [packId(1), 300, 50, 30],
  ]);
  assert.deepEqual(places.packs, [packId(1), packId(2)]);
  // What came before the offset past 4 GiB kept its place when the offsets were widened.
  assert.equal(places.offset(2), 11);
});

test('ChunkPlaces refuses a chunk the index lacks, or one it holds as a tree, naming it', () => {
  const index = twoPacks();
  for (const missing of [6, 9]) {
    assert.throws(
      () => ChunkPlaces.resolve([file(1), file(2, missing)], index),
      (e: unknown) => e instanceof IntegrityError && e.message.includes(hexId(missing).slice(0, 8)) && /missing from the index/.test(e.message),
    );
  }
  assert.equal(ChunkPlaces.resolve([], index).count, 0);
});
