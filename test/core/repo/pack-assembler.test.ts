import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { blobId } from '../../../src/core/crypto/ids.js';
import { openBlob } from '../../../src/core/repo/blob.js';
import { decodePackEntries, headerRange, PackAssembler, packBufferBytes, parsePackHeader, type AssembledPack } from '../../../src/core/repo/pack.js';

const dataKey = randomBytes(32);
const metaKey = randomBytes(32);
const idKey = randomBytes(32);
const TARGET = 8 * 1024 * 1024;

/** Feeds blobs the way a backup's worker does: the pack is finished when the next blob does not fit. */
function assemble(blobs: Buffer[], spare: () => ArrayBuffer | undefined = () => undefined, startBytes?: number): AssembledPack[] {
  const a = new PackAssembler(TARGET, spare, startBytes);
  const packs: AssembledPack[] = [];
  for (const data of blobs) {
    if (!a.fits(data.length)) packs.push(a.finish(metaKey));
    a.add(dataKey, 'data', blobId(idKey, data), data, false);
  }
  if (a.blobs > 0) packs.push(a.finish(metaKey));
  return packs;
}

function readBack(p: AssembledPack): Buffer[] {
  const bytes = Buffer.from(p.buffer, 0, p.length);
  const { offset, length } = headerRange(bytes.length, bytes.subarray(bytes.length - 4), 'data/p');
  const entries = parsePackHeader(metaKey, bytes.subarray(offset, offset + length), offset, 'data/p');
  assert.deepEqual(decodePackEntries(new Uint8Array(p.entries), offset, 'data/p'), entries, 'the plain header handed over is the sealed one');
  return entries.map((e) => openBlob(dataKey, e.type, e.id, bytes.subarray(e.offset, e.offset + e.length), e.rawLength, 'data/p'));
}

test('packs never outgrow their buffer: largest chunks, small pages and a mix, each pack at most the target', () => {
  assert.equal(packBufferBytes(TARGET), TARGET, 'an 8 MiB pack needs no buffer beyond 8 MiB');
  const cases: Array<[string, Buffer[]]> = [
    ['largest chunks', Array.from({ length: 5 }, () => randomBytes(4 * 1024 * 1024))],
    ['database pages', Array.from({ length: 4000 }, () => randomBytes(4096))],
    ['mixed', Array.from({ length: 60 }, (_, i) => randomBytes(i % 3 === 0 ? 3 * 1024 * 1024 + i : 4096 + i))],
  ];
  for (const [name, blobs] of cases) {
    const packs = assemble(blobs);
    for (const p of packs) {
      assert.equal(p.buffer.byteLength, TARGET, `${name}: assembled in the one buffer size`);
      assert.ok(p.length <= TARGET, `${name}: a pack of ${p.length} bytes`);
    }
    assert.deepEqual(packs.flatMap(readBack), blobs, `${name}: every blob opens, in order`);
    // Two largest chunks do not fit one pack; otherwise a pack is filled to within one blob of its buffer.
    for (const p of packs.slice(0, -1)) assert.ok(p.length > TARGET - 4 * 1024 * 1024 - 64 * 1024, `${name}: pack of ${p.length} bytes closed early`);
  }
});

test('a blob larger than any pack buffer gets a pack of its own, and the next pack gets a buffer of the usual size', () => {
  const huge = randomBytes(TARGET + 1000);
  const small = randomBytes(5000);
  const packs = assemble([small, huge, small]);
  assert.equal(packs.length, 3);
  assert.ok(packs[1]!.buffer.byteLength > TARGET);
  assert.equal(packs[2]!.buffer.byteLength, TARGET);
  assert.deepEqual(packs.flatMap(readBack), [small, huge, small]);
});

test('a pack holding an outsized blob says so, so the worker can hand it over at once', () => {
  for (const startBytes of [undefined, 256 * 1024]) {
    const a = new PackAssembler(TARGET, () => undefined, startBytes);
    const small = randomBytes(5000);
    a.add(dataKey, 'tree', blobId(idKey, small), small, true);
    assert.equal(a.oversized, false, 'a small blob in a pack');
    const huge = randomBytes(TARGET + 1000);
    assert.equal(a.fits(huge.length), false);
    a.finish(metaKey);
    a.add(dataKey, 'tree', blobId(idKey, huge), huge, true);
    assert.equal(a.oversized, true, 'a buffer grown past the pack size');
    const p = a.finish(metaKey);
    assert.equal(a.oversized, false, 'the next pack starts in a buffer of the usual size');
    assert.deepEqual(readBack(p), [huge]);
  }
  // A listing compresses (hex ids, about half): its pack's buffer is made for the compressed size.
  const listing = Buffer.from(randomBytes(TARGET + 64 * 1024).toString('hex'));
  const a = new PackAssembler(TARGET, () => undefined, 256 * 1024);
  a.add(dataKey, 'tree', blobId(idKey, listing), listing, true);
  assert.equal(a.oversized, true);
  const p = a.finish(metaKey);
  assert.ok(p.buffer.byteLength < listing.length * 0.6, `a buffer of ${p.buffer.byteLength} bytes for a listing of ${listing.length}`);
  assert.deepEqual(readBack(p), [listing]);
});

test('spare buffers of the pack size are reused; others are not', () => {
  const spare = new ArrayBuffer(TARGET);
  const wrong = new ArrayBuffer(TARGET + 4096);
  const offered = [spare, wrong];
  const packs = assemble([randomBytes(5 * 1024 * 1024), randomBytes(5 * 1024 * 1024)], () => offered.pop());
  assert.equal(packs.length, 2);
  assert.notEqual(packs[0]!.buffer, wrong, 'a buffer of another size is not used');
  assert.equal(packs[0]!.buffer.byteLength, TARGET);
  assert.equal(packs[1]!.buffer, spare, 'the spare is used for the next pack');
  assert.throws(() => {
    const a = new PackAssembler(TARGET);
    a.add(dataKey, 'data', blobId(idKey, Buffer.alloc(1)), Buffer.alloc(1), false);
    a.add(dataKey, 'data', blobId(idKey, Buffer.alloc(TARGET)), Buffer.alloc(TARGET), false);
  }, /does not fit/);
});

test('a pack that starts small grows as blobs come, cuts where a full-size one does, and takes no spares', () => {
  const START = 64 * 1024;
  const cases: Array<[string, Buffer[]]> = [
    ['directory listings', Array.from({ length: 300 }, (_, i) => randomBytes(200 + ((i * 7919) % 60_000)))],
    ['a few', [randomBytes(100), randomBytes(3000)]],
    ['larger than the start', [randomBytes(START * 3), randomBytes(10)]],
    ['larger than any pack', [randomBytes(10), randomBytes(TARGET + 1000), randomBytes(10)]],
  ];
  for (const [name, blobs] of cases) {
    const full = assemble(blobs);
    let offered = 0;
    const grown = assemble(blobs, () => (offered++, new ArrayBuffer(TARGET)), START);
    assert.equal(offered, 0, `${name}: spares are for full-size packs`);
    assert.deepEqual(grown.map((p) => p.length), full.map((p) => p.length), `${name}: the same packs`);
    assert.deepEqual(grown.flatMap(readBack), blobs, `${name}: every blob opens, in order`);
    for (const p of grown) {
      const bound = Math.max(TARGET, p.length);
      assert.ok(p.buffer.byteLength <= bound, `${name}: a buffer of ${p.buffer.byteLength} bytes for a pack of ${p.length}`);
      assert.ok(p.buffer.byteLength <= Math.max(START, 2 * p.length), `${name}: a buffer of ${p.buffer.byteLength} bytes grew further than a pack of ${p.length} needs`);
    }
  }
  const small = assemble([randomBytes(1000)], undefined, START);
  assert.equal(small.length, 1);
  assert.equal(small[0]!.buffer.byteLength, START, 'a pack of one small listing stays in its first buffer');
});

test('a pack takes its buffer when its first blob comes, so finishing the last pack of a run takes none', () => {
  let asked = 0;
  const a = new PackAssembler(TARGET, () => {
    asked++;
    return new ArrayBuffer(packBufferBytes(TARGET));
  });
  assert.equal(asked, 0, 'nothing is taken before a blob comes');
  const data = randomBytes(1000);
  a.add(dataKey, 'data', blobId(idKey, data), data, false);
  assert.equal(asked, 1);
  const pack = a.finish(metaKey);
  assert.equal(asked, 1, 'finishing takes no buffer for a pack that may never come');
  assert.deepEqual(readBack(pack), [data]);
  assert.throws(() => a.finish(metaKey), /empty/, 'an empty pack is never handed over');
  a.add(dataKey, 'data', blobId(idKey, data), data, false);
  assert.equal(asked, 2, 'the next blob takes the next buffer');
});
