/**
 * A batch's ranges are read a pack at a time: ranges of one pack no more than 64 KiB apart go in
 * one request, into their places in the batch's buffer, with the bytes between them dropped. After
 * a database grew, its pages alternate between old and new packs, and each run used to be a read.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { backup } from '../../../src/core/backup/backup.js';
import { IntegrityError } from '../../../src/core/errors.js';
import { RootKey } from '../../../src/core/keys/root-key.js';
import { Repository, type PackReader } from '../../../src/core/repo/repository.js';
import { ChunkPlaces } from '../../../src/core/restore/chunk-places.js';
import { readBatches, readSpans } from '../../../src/core/restore/chunk-stream.js';
import { restore } from '../../../src/core/restore/restore.js';
import type { ByteRange } from '../../../src/core/storage/backend.js';
import { LocalFolderBackend } from '../../../src/core/storage/local-folder.js';
import { latestSourceFile, repoWithSource } from '../../helpers/repo.js';
import { pseudoRandomBytes, tempDir } from '../../helpers/tmp.js';

/** Packs in memory, and every request made of them. */
function memoryPacks(packs: Record<string, Buffer>) {
  const requests: Array<{ pack: string; offset: number; length: number; parts: number }> = [];
  const reader: PackReader = {
    read: async (pack: string, range: ByteRange, into?: Buffer) => {
      requests.push({ pack, ...range, parts: 1 });
      const bytes = packs[pack]!.subarray(range.offset, range.offset + range.length);
      if (!into) return Buffer.from(bytes);
      bytes.copy(into);
      return into.subarray(0, bytes.length);
    },
    readParts: async (pack: string, offset: number, parts: readonly Buffer[]) => {
      let at = offset;
      for (const p of parts) at += packs[pack]!.copy(p, 0, at, at + p.length);
      requests.push({ pack, offset, length: at - offset, parts: parts.length });
      return at - offset;
    },
    close: async () => undefined,
  };
  return { reader, requests };
}

test('ranges of a pack close together are one request, each into its place; far apart or read again, one each', async () => {
  const packs = { a: pseudoRandomBytes(200_000, 1), b: pseudoRandomBytes(10_000, 2) };
  const { reader, requests } = memoryPacks(packs);
  // In batch order, as a grown database's pages come: alternating packs, a page's old copy skipped between runs.
  const ranges = [
    { pack: 'a', offset: 0, length: 1000 },
    { pack: 'b', offset: 0, length: 500 },
    { pack: 'a', offset: 1500, length: 1000 },
    { pack: 'b', offset: 500, length: 400 },
    { pack: 'a', offset: 150_000, length: 3000 },
    { pack: 'a', offset: 0, length: 1000 },
  ];
  const sealed = ranges.reduce((n, r) => n + r.length, 0);
  const buffer = new ArrayBuffer(sealed + 100);
  const base = 100;
  await Promise.all(readSpans(reader, ranges, buffer, base, Buffer.alloc(64 * 1024)));

  let at = base;
  for (const r of ranges) {
    assert.deepEqual(Buffer.from(buffer, at, r.length), packs[r.pack as 'a' | 'b'].subarray(r.offset, r.offset + r.length), `${r.pack} at ${r.offset}`);
    at += r.length;
  }
  const sorted = requests.map((q) => `${q.pack} ${q.offset}+${q.length} in ${q.parts}`).sort();
  assert.deepEqual(sorted, ['a 0+1000 in 1', 'a 0+2500 in 3', 'a 150000+3000 in 1', 'b 0+900 in 2']);
});

test("a pack's parts come short at its end: the restore stops with damage naming the pack; a missing pack likewise", async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const name = 'ab'.padEnd(64, '0');
  const bytes = pseudoRandomBytes(5000, 3);
  for (const ranged of [true, false]) {
    const backend = new LocalFolderBackend(join(dir, `repo-${ranged}`));
    // A backend without a range reader (S3, WebDAV) reads the whole span in one request and it is copied out.
    if (!ranged) Object.defineProperty(backend, 'rangeReader', { value: undefined });
    const repo = await Repository.init(backend, RootKey.generate());
    await backend.write('data', name, bytes);
    const packs = repo.packReader();
    const parts = [Buffer.alloc(100), Buffer.alloc(300), Buffer.alloc(50)];
    assert.equal(await packs.readParts(name, 4000, parts), 450);
    assert.deepEqual(Buffer.concat(parts), bytes.subarray(4000, 4450));
    await assert.rejects(packs.readParts(name, 4900, [Buffer.alloc(50), Buffer.alloc(60)]), (e: unknown) => e instanceof IntegrityError && /data\/ab\/ab0+: pack is shorter.*truncated/.test(e.message));
    await assert.rejects(packs.readParts('cd'.padEnd(64, '0'), 0, [Buffer.alloc(5), Buffer.alloc(5)]), (e: unknown) => e instanceof IntegrityError && /missing from storage/.test(e.message));
    await packs.close();
  }
});

test('a database whose pages changed here and there restores byte for byte, in far fewer requests than ranges', async (t) => {
  const PAGE = 4096;
  const db = Buffer.alloc(600 * PAGE);
  for (let k = 0; k < 600; k++) pseudoRandomBytes(PAGE, 10 + k).copy(db, k * PAGE);
  db.write('SQLite format 3\0', 0, 'latin1');
  db.writeUInt16BE(PAGE, 16);
  const { repo, src, dir } = await repoWithSource(t, { 'chat.db': db });
  await backup(repo, { sources: [src] });
  // Every seventh page changes, as a database's indexes do when messages are added.
  for (let k = 3; k < 600; k += 7) pseudoRandomBytes(PAGE, 5000 + k).copy(db, k * PAGE);
  writeFileSync(join(src, 'chat.db'), db);
  await backup(repo, { sources: [src] });

  const { snapshot, index, node } = await latestSourceFile(repo, 'chat.db');
  let ranges = 0;
  let requests = 0;
  const packs = repo.packReader();
  const counting: PackReader = {
    read: (pack, range, into) => (requests++, packs.read(pack, range, into)),
    readParts: (pack, offset, parts) => (requests++, packs.readParts(pack, offset, parts)),
    close: () => packs.close(),
  };
  for (const b of readBatches(ChunkPlaces.resolve([node], index))) {
    ranges += b.ranges.length;
    const buffer = new ArrayBuffer(b.room.bytes);
    await Promise.all(readSpans(counting, b.ranges, buffer, buffer.byteLength - b.room.sealed, Buffer.alloc(64 * 1024)));
  }
  await counting.close();
  assert.ok(ranges >= 150, `the pages alternate between old and new packs (${ranges} ranges)`);
  assert.ok(requests <= 4, `${requests} requests for ${ranges} ranges`);

  const target = join(dir, 'out');
  await restore(repo, { snapshot, target });
  assert.deepEqual(readFileSync(join(target, 'src', 'chat.db')), db);
});
