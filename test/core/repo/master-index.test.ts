import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { IntegrityError } from '../../../src/core/errors.js';
import type { BlobType } from '../../../src/core/repo/blob.js';
import type { IndexFile, PackRecord } from '../../../src/core/repo/index-file.js';
import { documentBytes } from '../../../src/core/repo/json-bytes.js';
import { IndexedIds } from '../../../src/core/repo/indexed-ids.js';
import { blankPlace, MasterIndex } from '../../../src/core/repo/master-index.js';
import { ChunkList } from '../../../src/core/repo/chunk-list.js';
import { rowAt } from '../../../src/core/repo/row-store.js';
import { decodePackEntries, PackAssembler } from '../../../src/core/repo/pack.js';

const hexId = (n: number) => createHash('sha256').update(`blob ${n}`).digest('hex');
const packId = (n: number) => createHash('sha256').update(`pack ${n}`).digest('hex');

/** An index file of `packs` packs with `perPack` blobs each; blob numbers may repeat across files. */
function indexFile(packs: Array<{ pack: number; blobs: number[] }>): IndexFile {
  return {
    v: 1,
    packs: packs.map(({ pack, blobs }) => {
      let offset = 0;
      const entries = blobs.map((b, i) => {
        const e = { id: hexId(b), type: (i % 7 === 0 ? 'tree' : 'data') as BlobType, offset, length: 100 + (b % 50), rawLength: 70 + (b % 50) };
        offset += e.length;
        return e;
      });
      return { id: packId(pack), size: offset + 60, blobs: entries };
    }),
    supersedes: [],
  };
}

/** The index file listing `records`, as objects: what `indexFileJson` must give the JSON of. */
function indexFileFor(records: readonly PackRecord[], supersedes: readonly string[] = []): IndexFile {
  return {
    v: 1,
    packs: records.map((p) => ({
      id: p.id,
      size: p.size,
      blobs: p.entries.map((e) => ({ id: e.id.toString('hex'), type: e.type, offset: e.offset, length: e.length, rawLength: e.rawLength })),
    })),
    supersedes: [...supersedes],
  };
}

test('the compact index answers like a map of every blob to its first location, across growth and rehashing', () => {
  const index = new MasterIndex();
  const reference = new Map<string, { pack: string; type: BlobType; offset: number; length: number; rawLength: number }>();
  // 60 packs of 150 blobs, every third blob repeated from an earlier pack: 9,000 entries, well past the first capacity.
  const files: IndexFile[] = [];
  for (let f = 0; f < 6; f++) {
    const packs = [];
    for (let p = f * 10; p < f * 10 + 10; p++) packs.push({ pack: p, blobs: Array.from({ length: 150 }, (_, i) => (i % 3 === 0 && p > 0 ? (p - 1) * 150 + i : p * 150 + i)) });
    files.push(indexFile(packs));
  }
  files.forEach((file, i) => {
    index.addFile(`file${i}`, file);
    for (const p of file.packs) for (const b of p.blobs) if (!reference.has(b.id)) reference.set(b.id, { pack: p.id, type: b.type, offset: b.offset, length: b.length, rawLength: b.rawLength });
  });
  assert.equal(index.blobCount, reference.size);
  assert.equal(index.packs.size, 60);
  // One place written over by every lookup, as a restore resolves its chunks: each pack keeps one number.
  const place = blankPlace();
  const packNos = new Map<string, number>();
  for (const [id, loc] of reference) {
    assert.equal(index.has(id), true);
    assert.deepEqual(index.get(id), loc);
    assert.equal(index.packOf(id), loc.pack);
    assert.equal(index.locateAt(Buffer.from(id, 'hex'), 0, place), true);
    const { packNo, row, ...where } = place;
    assert.deepEqual(where, loc);
    const stored = index.storedRows().rowBytes(row);
    assert.equal(stored.toString('hex', rowAt(row), rowAt(row) + 32), id, 'the row it names holds the id');
    assert.equal(packNos.get(loc.pack) ?? packNo, packNo, 'the same pack, the same number');
    packNos.set(loc.pack, packNo);
  }
  assert.equal(new Set(packNos.values()).size, 60);
  const shared = IndexedIds.attach(index.sharedIds());
  for (const id of reference.keys()) assert.equal(shared.has(Buffer.from(id, 'hex')), true, 'a worker reading the shared ids finds each blob');
  for (let n = 100_000; n < 100_500; n++) {
    assert.equal(index.has(hexId(n)), false);
    assert.equal(shared.has(Buffer.from(hexId(n), 'hex')), false);
    assert.equal(index.packOf(hexId(n)), undefined);
    assert.equal(index.locateAt(Buffer.from(hexId(n), 'hex'), 0, place), false);
  }
  // Not ids at all: never found, never thrown on.
  for (const bad of ['', 'zz', hexId(1).toUpperCase(), hexId(1).slice(1), `${hexId(1)}0`, 'é'.repeat(64)]) assert.equal(index.has(bad), false);
});

test("a pack's entries keep duplicates in pack order; a pack listed twice counts once; a clone is independent", () => {
  const index = new MasterIndex();
  index.addFile('a', indexFile([{ pack: 1, blobs: [1, 2, 3] }]));
  index.addFile('b', indexFile([{ pack: 2, blobs: [3, 4] }, { pack: 1, blobs: [1, 2, 3] }]));
  assert.deepEqual(
    index.blobsOfPack(packId(2))!.map((b) => b.id),
    [hexId(3), hexId(4)],
  );
  assert.equal(index.get(hexId(3))!.pack, packId(1), 'the first listing stays the blob’s location');
  assert.equal(index.packs.get(packId(1))!.blobCount, 3);
  assert.equal(index.blobCount, 4);
  assert.deepEqual([...index.files].sort(), ['a', 'b']);
  assert.equal(index.blobsOfPack(packId(9)), undefined);

  const copy = index.clone();
  copy.addFile('c', indexFile([{ pack: 3, blobs: [5] }]));
  assert.equal(copy.has(hexId(5)), true);
  assert.equal(index.has(hexId(5)), false);
  assert.equal(index.files.has('c'), false);
  assert.deepEqual(copy.get(hexId(4)), index.get(hexId(4)));
});

test('packs added by a backup read back like the same packs from an index file', () => {
  const file = indexFile([{ pack: 7, blobs: [10, 11, 12, 10] }]);
  const fromFile = new MasterIndex();
  fromFile.addFile('x', file);
  const fromPack = new MasterIndex();
  const p = file.packs[0]!;
  fromPack.addPack({ id: p.id, size: p.size, entries: p.blobs.map((b) => ({ ...b, id: Buffer.from(b.id, 'hex') })) });
  assert.deepEqual(fromPack.blobsOfPack(p.id), fromFile.blobsOfPack(p.id));
  for (const b of p.blobs) assert.deepEqual(fromPack.get(b.id), fromFile.get(b.id));
  assert.equal(fromPack.blobCount, 3);
});

test('an index file whose blob lies outside its pack is refused, and nothing of it is added', () => {
  const index = new MasterIndex();
  const file = indexFile([{ pack: 1, blobs: [1, 2] }]);
  const broken: IndexFile = { ...file, packs: [{ ...file.packs[0]!, size: 150 }] };
  assert.throws(() => index.addFile('bad', broken), (e: unknown) => e instanceof IntegrityError && /lies outside its pack/.test(e.message));
  assert.equal(index.packs.size, 0);
  assert.equal(index.has(hexId(1)), false);

  // Refused whole, before any of its rows is kept: a blob longer than a blob can be, and a bad id
  // after good ones. The index goes on as if neither had come.
  const many = indexFile([{ pack: 2, blobs: Array.from({ length: 200 }, (_, n) => n) }]);
  const long: IndexFile = { ...many, packs: [{ ...many.packs[0]!, size: 2 ** 40, blobs: [...many.packs[0]!.blobs, { id: hexId(999), type: 'data', offset: 0, length: 2 ** 32, rawLength: 10 }] }] };
  assert.throws(() => index.addFile('long', long), (e: unknown) => e instanceof IntegrityError && /larger than a blob can be/.test(e.message));
  const badId: IndexFile = { ...many, packs: [{ ...many.packs[0]!, blobs: [...many.packs[0]!.blobs.slice(0, 150), { ...many.packs[0]!.blobs[150]!, id: 'x'.repeat(64) }] }] };
  assert.throws(() => index.addFile('bad-id', badId), (e: unknown) => e instanceof IntegrityError && /64 hex digits/.test(e.message));
  assert.equal(index.blobCount, 0);
  index.addFile('good', indexFile([{ pack: 3, blobs: [1, 2] }]));
  assert.equal(index.get(hexId(2))!.pack, packId(3));
  assert.equal(MasterIndex.fromBytes(index.toBytes()).get(hexId(2))!.pack, packId(3));
});

test('an index file written from the rows lists each pack\'s entries as the file read did, duplicates included', () => {
  const file = indexFile([{ pack: 4, blobs: [20, 21, 20, 22] }, { pack: 5, blobs: [21, 23] }]);
  const index = new MasterIndex();
  index.addFile('x', file);
  assert.equal(documentBytes(index.indexFileJson(file.packs.map((p) => p.id))).toString('utf8'), JSON.stringify(file));
  assert.throws(() => index.indexFileJson([packId(9)]), /not in the index/);
});

test('an index file written from the rows is the JSON.stringify of the same packs, and reads back as them', () => {
  const index = new MasterIndex();
  const names: string[] = [];
  const added = new Map<string, PackRecord>();
  for (let p = 0; p < 5; p++) {
    let offset = 0;
    const entries = Array.from({ length: p === 2 ? 1 : 400 + p }, (_, i) => {
      const length = 29 + ((i * 7919 * (p + 1)) % 4_000_000);
      const e = { type: (i % 7 === 3 ? 'tree' : 'data') as BlobType, id: createHash('sha256').update(`${p}/${i % 390}`).digest(), offset, length, rawLength: i % 11 === 0 ? 0 : (i * 104_729) % 16_000_000 };
      offset += length;
      return e;
    });
    const name = createHash('sha256').update(`pack ${p}`).digest('hex');
    const record = { id: name, size: offset + 60, entries };
    index.addPack(record);
    added.set(name, record);
    names.push(name);
  }
  for (const chosen of [names, names.slice(1, 3).reverse(), [names[2]!]]) {
    const json = documentBytes(index.indexFileJson(chosen));
    assert.equal(json.toString('latin1'), JSON.stringify(indexFileFor(chosen.map((n) => added.get(n)!))));
    const again = new MasterIndex();
    again.addFile('f'.repeat(64), JSON.parse(json.toString('utf8')) as IndexFile);
    for (const n of chosen) assert.deepEqual(again.blobsOfPack(n), index.blobsOfPack(n));
  }
  assert.equal(documentBytes(index.indexFileJson([])).toString(), JSON.stringify(indexFileFor([])));
  assert.throws(() => index.indexFileJson(['0'.repeat(64)]), /not in the index/);

  // A prune's file: packs of the index, new packs that are not in it, and the files it supersedes.
  const records = [1, 2].map((p) => ({
    id: createHash('sha256').update(`new pack ${p}`).digest('hex'),
    size: 5000,
    entries: Array.from({ length: 3 * p }, (_, i) => ({ type: 'data' as BlobType, id: createHash('sha256').update(`new ${p}/${i}`).digest(), offset: i * 100, length: 100, rawLength: 90 + i })),
  }));
  const supersedes = ['a'.repeat(64), 'b'.repeat(64), 'odd "name" é'];
  for (const chosen of [names.slice(0, 2), []]) {
    const json = documentBytes(index.indexFileJson(chosen, { records, supersedes }));
    assert.equal(json.toString('utf8'), JSON.stringify(indexFileFor([...chosen.map((n) => added.get(n)!), ...records], supersedes)));
  }
  assert.equal(documentBytes(index.indexFileJson([], { supersedes: ['c'.repeat(64)] })).toString(), JSON.stringify(indexFileFor([], ['c'.repeat(64)])));
});

test("a pack indexed from its plain header reads back like its decoded entries; a bad header adds nothing", () => {
  const key = createHash('sha256').update('key').digest();
  const a = new PackAssembler(1024 * 1024);
  const blobs = [10, 11, 12, 10, 13].map((n) => Buffer.from(`blob ${n} `.repeat(50 + n)));
  blobs.forEach((data, i) => a.add(key, i === 2 ? 'tree' : 'data', createHash('sha256').update(data).digest(), data, i % 2 === 0));
  const pack = a.finish(key);
  const header = new Uint8Array(pack.entries);
  const name = packId(9);
  const fromHeader = new MasterIndex();
  fromHeader.addPackHeader(name, pack.length, header, `data/${name}`);
  const fromEntries = new MasterIndex();
  fromEntries.addPack({ id: name, size: pack.length, entries: decodePackEntries(header, pack.length, `data/${name}`) });
  assert.deepEqual(fromHeader.blobsOfPack(name), fromEntries.blobsOfPack(name));
  assert.equal(fromHeader.blobsOfPack(name)!.length, 5);
  assert.equal(fromHeader.blobCount, 4, 'a repeated blob is one blob');
  assert.equal(fromHeader.get(createHash('sha256').update(blobs[2]!).digest('hex'))?.type, 'tree');

  const index = new MasterIndex();
  const badType = Buffer.from(header);
  badType[2 * 41] = 9;
  const truncated = header.subarray(0, header.length - 1);
  for (const [bad, limit, message] of [
    [badType, pack.length, /entry 2 is malformed/],
    [header, 100, /entry \d is malformed/],
    [truncated, pack.length, /header is malformed/],
  ] as const) {
    assert.throws(() => index.addPackHeader(name, limit, bad, 'data/bad'), (e: unknown) => e instanceof IntegrityError && e.message.includes('data/bad') && message.test(e.message));
    assert.equal(index.packs.size, 0);
    assert.equal(index.blobCount, 0);
  }
  index.addPackHeader(name, pack.length, header, `data/${name}`);
  assert.deepEqual(index.blobsOfPack(name), fromEntries.blobsOfPack(name));
});

test('a chunk list is looked up in place: every id at its offset, and an offset past the end finds nothing', () => {
  const index = new MasterIndex();
  index.addFile('f', indexFile([{ pack: 1, blobs: [1, 2] }, { pack: 2, blobs: [3] }]));
  const ids = [1, 2, 3].map((n) => Buffer.from(hexId(n), 'hex'));
  const list = ChunkList.ofBytes(Buffer.concat(ids));
  const bytes = list.bytes();
  assert.deepEqual([0, 32, 64].map((at) => index.packOfAt(bytes, at)), [packId(1), packId(1), packId(2)]);
  assert.equal(index.packOfAt(bytes, 80), undefined);
  assert.equal(index.packOfAt(bytes, -1), undefined);
  const place = blankPlace();
  assert.deepEqual([0, 32, 64].map((at) => index.locateAt(bytes, at, place) && place.pack), [packId(1), packId(1), packId(2)]);
  assert.equal(index.locateAt(bytes, 80, place), false);
  assert.equal(index.locateAt(bytes, -1, place), false);
  assert.equal(index.hasAll(list), true);
  assert.equal(index.hasAll(ChunkList.ofBytes(Buffer.concat([ids[0]!, Buffer.from(hexId(9), 'hex')]))), false);
});

test('a blob past 4 GiB in a large pack keeps its offset, through the cache, and the rows before it theirs', () => {
  const index = new MasterIndex();
  index.addFile('small', indexFile([{ pack: 1, blobs: [1, 2, 3] }]));
  const before = index.get(hexId(2))!;
  const big: IndexFile = {
    v: 1,
    packs: [{ id: packId(2), size: 2 ** 33, blobs: [{ id: hexId(10), type: 'data', offset: 2 ** 32 + 12_345, length: 100, rawLength: 80 }, { id: hexId(11), type: 'data', offset: 7, length: 100, rawLength: 80 }] }],
    supersedes: [],
  };
  index.addFile('big', big);
  for (const copy of [index, MasterIndex.fromBytes(index.toBytes()), index.clone()]) {
    assert.equal(copy.get(hexId(10))!.offset, 2 ** 32 + 12_345);
    assert.equal(copy.get(hexId(11))!.offset, 7);
    assert.deepEqual(copy.get(hexId(2)), before);
    assert.equal(copy.packOf(hexId(10)), packId(2));
  }
});

test('each row names its own pack, with empty packs between, after growth and after prune moved the rows', () => {
  const index = new MasterIndex();
  let blob = 0;
  for (let p = 0; p < 300; p++) {
    // Every fifth pack is empty; the others hold 1 to 40 blobs.
    const count = p % 5 === 0 ? 0 : 1 + (p % 40);
    index.addFile(`f${p}`, indexFile([{ pack: p, blobs: Array.from({ length: count }, () => blob++) }]));
  }
  const packOfBlob = (b: number) => {
    let n = 0;
    for (let p = 0; p < 300; p++) {
      const count = p % 5 === 0 ? 0 : 1 + (p % 40);
      if (b < n + count) return p;
      n += count;
    }
    throw new Error('no such blob');
  };
  for (let b = 0; b < blob; b++) assert.equal(index.packOf(hexId(b)), packId(packOfBlob(b)));
  index.retain((pack) => pack !== packId(1) && pack !== packId(101), ['f1', 'f101']);
  for (let b = 0; b < blob; b++) {
    const p = packOfBlob(b);
    assert.equal(index.packOf(hexId(b)), p === 1 || p === 101 ? undefined : packId(p));
  }
  const back = MasterIndex.fromBytes(index.toBytes());
  for (let b = 0; b < blob; b += 7) assert.equal(back.packOf(hexId(b)), index.packOf(hexId(b)));
});

test('an index cache of another layout is refused, so the index is built from the index files again', () => {
  const index = new MasterIndex();
  index.addFile('f', indexFile([{ pack: 1, blobs: [1, 2] }]));
  const bytes = index.toBytes();
  const headLength = bytes.readUInt32LE(0);
  const head = JSON.parse(bytes.subarray(4, 4 + headLength).toString('utf8')) as Record<string, unknown>;
  delete head.layout; // as the first layout wrote it
  const older = Buffer.from(JSON.stringify(head));
  const lengthPrefix = Buffer.alloc(4);
  lengthPrefix.writeUInt32LE(older.length);
  assert.throws(() => MasterIndex.fromBytes(Buffer.concat([lengthPrefix, older, bytes.subarray(4 + headLength)])), /another layout/);
});

test("marks: a blob is marked at its first location, counted there once, and an id the index lacks is refused", () => {
  const index = new MasterIndex();
  // Blob 3 is in packs 1 and 2: it serves from pack 1, where `get` finds it.
  index.addFile('a', indexFile([{ pack: 1, blobs: [1, 2, 3] }, { pack: 2, blobs: [3, 4] }, { pack: 3, blobs: [5] }]));
  const marks = index.newMarks();
  const ids = Buffer.from([hexId(3), hexId(4), hexId(3), hexId(99)].join(''), 'hex');
  assert.equal(marks.markAt(ids, 0), true);
  assert.equal(marks.markAt(ids, 32), true);
  assert.equal(marks.markAt(ids, 64), true, 'a blob marked twice is still one blob');
  assert.equal(marks.markAt(ids, 96), false, 'an id no index lists');
  assert.equal(marks.markAt(ids, 100), false, 'an offset that is not a whole id');
  for (const [n, marked] of [[1, false], [2, false], [3, true], [4, true], [5, false], [99, false]] as const) {
    assert.equal(marks.has(hexId(n)), marked, `blob ${n}`);
    assert.equal(marks.has(Buffer.from(hexId(n), 'hex')), marked, `blob ${n} as bytes`);
  }
  const length = (n: number) => index.get(hexId(n))!.length;
  assert.deepEqual(
    marks.bytesByPack(),
    new Map([
      [packId(1), length(3)],
      [packId(2), length(4)],
    ]),
    'pack 3 serves nothing, and blob 3 counts for pack 1 only',
  );
  assert.equal(index.newMarks().has(hexId(3)), false, 'each set starts empty');
});
