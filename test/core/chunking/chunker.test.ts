import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CDC_PARAMS, gearTable } from '../../../src/core/chunking/fastcdc.js';
import { chunkMethodFor, FileChunker, worthCompressing } from '../../../src/core/chunking/file-chunker.js';
import { pseudoRandomBytes } from '../../helpers/tmp.js';

const gear = gearTable(Buffer.alloc(32, 7));

function chunk(data: Buffer, blockSize: number, method = chunkMethodFor(data)): Buffer[] {
  const c = new FileChunker(method, gear, data);
  const out: Buffer[] = [];
  for (let o = 0; o < data.length; o += blockSize) out.push(...c.push(data.subarray(o, o + blockSize)));
  const last = c.finish();
  if (last) out.push(last);
  return out;
}

test('content-defined chunks respect the size limits and reassemble the input', () => {
  const data = pseudoRandomBytes(20 * 1024 * 1024, 1);
  const chunks = chunk(data, 4 * 1024 * 1024);
  assert.ok(Buffer.concat(chunks).equals(data));
  chunks.slice(0, -1).forEach((c) => assert.ok(c.length >= CDC_PARAMS.min && c.length <= CDC_PARAMS.max, `chunk of ${c.length}`));
  const avg = data.length / chunks.length;
  assert.ok(avg > CDC_PARAMS.min && avg < 2 * CDC_PARAMS.avg, `average ${avg}`);
});

test('cut points do not depend on how the file is read', () => {
  const data = pseudoRandomBytes(9 * 1024 * 1024, 2);
  const a = chunk(data, 4 * 1024 * 1024).map((c) => c.length);
  const b = chunk(data, 65537).map((c) => c.length);
  assert.deepEqual(a, b);
});

test('an insertion near the start changes only the chunks around it', () => {
  const data = pseudoRandomBytes(16 * 1024 * 1024, 3);
  const edited = Buffer.concat([data.subarray(0, 1000), Buffer.from('inserted text'), data.subarray(1000)]);
  const before = new Set(chunk(data, 1 << 22).map((c) => c.toString('base64')));
  const after = chunk(edited, 1 << 22);
  const changed = after.filter((c) => !before.has(c.toString('base64')));
  assert.ok(changed.length <= 2, `${changed.length} chunks changed`);
});

test('SQLite databases are cut into pages (at least 4 KiB), whatever the read size', () => {
  const header = (pageSize: number) => {
    const h = Buffer.alloc(100);
    h.write('SQLite format 3\0', 'latin1');
    h.writeUInt16BE(pageSize === 65536 ? 1 : pageSize, 16);
    return h;
  };
  for (const [pageSize, chunkSize] of [[4096, 4096], [1024, 4096], [8192, 8192], [65536, 65536]] as const) {
    const db = Buffer.concat([header(pageSize), pseudoRandomBytes(chunkSize * 5 - 100 + 116, pageSize)]);
    assert.equal(chunkMethodFor(db), 'sqlite-pages');
    const chunks = chunk(db, 100_000);
    assert.deepEqual(chunks.map((c) => c.length), [chunkSize, chunkSize, chunkSize, chunkSize, chunkSize, 116], `page size ${pageSize}`);
    assert.deepEqual(chunk(db, 777).map((c) => c.length), chunks.map((c) => c.length));
    assert.equal(new FileChunker('sqlite-pages', gear, db).chunksFor(db.length), chunks.length, 'a database\'s chunks are counted before it is read');
  }
  assert.equal(new FileChunker('cdc', gear).chunksFor(10_000_000), 0, 'content-defined chunks are not known in number');
});

test('chunks own their memory, so they can be moved to a worker', () => {
  for (const c of chunk(pseudoRandomBytes(3 * 1024 * 1024, 5), 1 << 20)) {
    assert.equal(c.byteOffset, 0);
    assert.equal(c.buffer.byteLength, c.length);
  }
});

/** Reads like the backup does: `rotation` buffers in turn, the chunker keeping views of the last ones' tails. */
function chunkKeptBlocks(data: Buffer, readSizes: readonly number[], rotation: number, blockBytes: number): { chunks: Buffer[]; copiedBytes: number } {
  const c = new FileChunker(chunkMethodFor(data), gear, data);
  const buffers = Array.from({ length: rotation }, () => Buffer.alloc(blockBytes));
  const out: Buffer[] = [];
  let copiedBytes = 0;
  const sink = (parts: readonly Uint8Array[]) => {
    // A piece outside every read buffer is a copy the chunker made.
    for (const p of parts) if (!buffers.some((b) => b.buffer === p.buffer)) copiedBytes += p.length;
    out.push(Buffer.concat(parts));
  };
  for (let o = 0, n = 0; o < data.length; n++) {
    const size = Math.min(readSizes[n % readSizes.length]!, data.length - o);
    const block = buffers[n % rotation]!.subarray(0, size);
    data.copy(block, 0, o, o + size);
    c.feed(block, sink, rotation);
    buffers[(n + 1) % rotation]!.fill(0xee); // the buffer read next is overwritten, as a reader would
    o += size;
  }
  c.end(sink);
  return { chunks: out, copiedBytes };
}

test('reading into buffers in turn gives the same chunks, short reads included', () => {
  const data = pseudoRandomBytes(13 * 1024 * 1024, 6);
  const expected = chunk(data, 1 << 20).map((c) => c.toString('base64'));
  const MiB = 1024 * 1024;
  for (const [rotation, blockBytes] of [[2, 4 * MiB], [3, 2 * MiB], [2, 2 * MiB]] as const) {
    for (const sizes of [[blockBytes], [blockBytes, 100_000, 3], [300_000], [65_537, blockBytes]]) {
      const { chunks } = chunkKeptBlocks(data, sizes, rotation, blockBytes);
      assert.deepEqual(chunks.map((c) => c.toString('base64')), expected, `${rotation} buffers of ${blockBytes}, reads of ${sizes.join(', ')}`);
    }
  }
});

test('three 2 MiB buffers in turn: whole reads keep every chunk as views; a chunk over more blocks than that is copied', () => {
  const data = pseudoRandomBytes(24 * 1024 * 1024, 7);
  const MiB = 1024 * 1024;
  assert.equal(chunkKeptBlocks(data, [2 * MiB], 3, 2 * MiB).copiedBytes, 0, 'a chunk spans at most three 2 MiB blocks');
  // 1 MiB blocks: a chunk longer than 1 MiB can span three of them, and two buffers keep only two.
  assert.ok(chunkKeptBlocks(data, [MiB], 2, MiB).copiedBytes > 0, 'two 1 MiB buffers: chunks over three blocks are copied');
});

test('media formats are not worth compressing; text is', () => {
  assert.equal(worthCompressing(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10])), false);
  assert.equal(worthCompressing(Buffer.from('\0\0\0\x18ftypmp42', 'latin1')), false);
  assert.equal(worthCompressing(Buffer.from('OggS\0\x02', 'latin1')), false);
  assert.equal(worthCompressing(Buffer.from('12/03/21, 10:15 - Ana: hola', 'utf8')), true);
});
