import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { IntegrityError } from '../../../src/core/errors.js';
import { ChunkList } from '../../../src/core/repo/chunk-list.js';
import { MasterIndex } from '../../../src/core/repo/master-index.js';
import { ChunkPlaces } from '../../../src/core/restore/chunk-places.js';
import { rowAt, rowLength, rowOffset, rowRawLength } from '../../../src/core/repo/row-store.js';

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

test('ChunkPlaces resolves every chunk of the files in order, repeats included, each pack numbered once, and reads them back after the index is let go', () => {
  let index: MasterIndex | null = twoPacks();
  // More rows than one block of the index's rows, so that some are read back from its file.
  index.addFile('i2', { v: 1, packs: [{ id: packId(3), size: 100 * 300, blobs: Array.from({ length: 300 }, (_, n) => ({ id: hexId(100 + n), type: 'data' as const, offset: n * 100, length: 100, rawLength: 90 })) }], supersedes: [] });
  const places = ChunkPlaces.resolve([file(2, 1), file(), file(5, 2, 4, 3), file(399, 100)], index);
  index = null;
  assert.equal(places.count, 8);
  const got = Array.from({ length: places.count }, (_, k) => {
    const row = places.row(k);
    const bytes = places.stored.rowBytes(row);
    const at = rowAt(row);
    return [bytes.toString('hex', at, at + 32), places.packs[places.pack(k)], rowOffset(bytes, at), rowLength(bytes, at), rowRawLength(bytes, at)];
  });
  assert.deepEqual(got, [
    [hexId(2), packId(1), 100, 200, 180],
    [hexId(1), packId(1), 0, 100, 80],
    [hexId(5), packId(2), 11, 40, 20],
    [hexId(2), packId(1), 100, 200, 180],
    [hexId(4), packId(2), 2 ** 32 + 7, 100, 90],
    [hexId(3), packId(1), 300, 50, 30],
    [hexId(399), packId(3), 29_900, 100, 90],
    [hexId(100), packId(3), 0, 100, 90],
  ]);
  assert.deepEqual(places.packs, [packId(1), packId(2), packId(3)]);
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
