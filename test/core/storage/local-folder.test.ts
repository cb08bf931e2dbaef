import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { StorageBackend } from '../../../src/core/storage/backend.js';
import { LocalFolderBackend } from '../../../src/core/storage/local-folder.js';
import { conformance, id, listAll, rejectsKind } from './conformance.js';
import { mountTinyDisk } from '../../helpers/tmp.js';

const base = mkdtempSync(join(tmpdir(), 'chatsafe-local-'));
after(() => rmSync(base, { recursive: true, force: true }));

function countTmp(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) n += countTmp(join(dir, e.name));
    else if (e.name.startsWith('.tmp-')) n++;
  }
  return n;
}

conformance('local folder', () => ({
  fresh: async () => new LocalFolderBackend(join(base, id().slice(0, 16))),
  makeDebris: async (b: StorageBackend) => {
    const root = (b as LocalFolderBackend).root;
    mkdirSync(join(root, 'data', 'ab'), { recursive: true });
    writeFileSync(join(root, 'data', 'ab', `.tmp-ab${id().slice(2)}-123456`), 'half');
    writeFileSync(join(root, 'keys', `.tmp-${id()}-abcdef`), 'half');
  },
  countDebris: async (b: StorageBackend) => countTmp((b as LocalFolderBackend).root),
  largeSize: 12 * 1024 * 1024,
}));

describe('local folder on a full disk', () => {
  const mnt = mkdtempSync(join(tmpdir(), 'chatsafe-full-'));
  const skip = mountTinyDisk(mnt);
  after(() => {
    if (!skip) execFileSync('umount', [mnt]);
    rmSync(mnt, { recursive: true, force: true });
  });

  it('fails clearly, keeps nothing half-written, and keeps what was there', { skip }, async () => {
    const b = new LocalFolderBackend(join(mnt, 'repo'));
    await b.create();
    const small = id();
    await b.write('data', small, Buffer.alloc(100 * 1024, 7));
    const big = id();
    const err = await rejectsKind(b.write('data', big, Buffer.alloc(1024 * 1024, 9)), 'io');
    assert.match(err.message, /ENOSPC/);
    assert.match(err.hint ?? '', /disk is full/);
    assert.equal(await b.stat('data', big), null);
    assert.equal(countTmp(join(mnt, 'repo')), 0, 'no temporary file left behind');
    assert.deepEqual(await b.read('data', small), Buffer.alloc(100 * 1024, 7));
    assert.deepEqual((await listAll(b, 'data')).map((o) => o.name), [small]);
    // Once space is freed, the same write goes through.
    await b.remove('data', small);
    await b.write('data', big, Buffer.alloc(300 * 1024, 9));
    assert.equal((await b.read('data', big)).length, 300 * 1024);
  });
});

describe('local folder reads into the caller\'s memory', () => {
  it('fills the buffer it is given and returns a view of it, so a restore can reuse its buffers', async () => {
    const b = new LocalFolderBackend(join(base, id().slice(0, 16)));
    await b.create();
    const n = id();
    const bytes = Buffer.from(Array.from({ length: 4096 }, (_, i) => i % 251));
    await b.write('data', n, bytes);
    const into = Buffer.alloc(8192);
    const got = await b.read('data', n, { offset: 100, length: 3000 }, into);
    assert.equal(got.buffer, into.buffer);
    assert.equal(got.length, 3000);
    assert.deepEqual(got, bytes.subarray(100, 3100));
  });
});

describe('local folder range reader', () => {
  const openFds = () => (process.platform === 'linux' ? readdirSync('/proc/self/fd').length : null);

  it('reads ranges of many objects, in parallel, keeping a few open and closing them all at the end', async () => {
    const b = new LocalFolderBackend(join(base, id().slice(0, 16)));
    await b.create();
    const objects = Array.from({ length: 20 }, (_, i) => ({ name: id(), bytes: Buffer.from(Array.from({ length: 5000 }, (_, j) => (i * 7 + j) % 256)) }));
    for (const o of objects) await b.write('data', o.name, o.bytes);
    const before = openFds();
    const reader = b.rangeReader('data');
    // Alternating between objects, as a restore of a grown database does, several reads at a time.
    const reads = [];
    for (let round = 0; round < 3; round++) {
      for (const [i, o] of objects.entries()) {
        const offset = (i * 131 + round * 17) % 4000;
        reads.push(reader.read(o.name, { offset, length: 700 }, round === 1 ? Buffer.alloc(1024) : undefined).then((got) => assert.deepEqual(got, o.bytes.subarray(offset, offset + 700))));
      }
    }
    await Promise.all(reads);
    assert.deepEqual(await reader.read(objects[0]!.name, { offset: 4900, length: 200 }), objects[0]!.bytes.subarray(4900), 'short at the end');
    await rejectsKind(reader.read(id(), { offset: 0, length: 10 }), 'not-found');
    await rejectsKind(reader.read(objects[0]!.name, { offset: -1, length: 10 }), 'integrity');
    const during = openFds();
    if (before !== null && during !== null) assert.ok(during - before <= 8, `${during - before} files held open`);
    await reader.close();
    // Closing is asynchronous: give the handles a moment to go.
    for (let i = 0; i < 50 && before !== null && openFds()! > before; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(openFds(), before, 'every file the reader opened is closed');
  });

  it('reads one range into parts in turn, in one request, and comes short at the end of the object', async () => {
    const b = new LocalFolderBackend(join(base, id().slice(0, 16)));
    await b.create();
    const name = id();
    const bytes = Buffer.from(Array.from({ length: 10_000 }, (_, j) => (j * 31) % 251));
    await b.write('data', name, bytes);
    const reader = b.rangeReader('data');
    const parts = [Buffer.alloc(100), Buffer.alloc(1), Buffer.alloc(2000), Buffer.alloc(0), Buffer.alloc(700)];
    assert.equal(await reader.readParts(name, 5000, parts), 2801);
    assert.deepEqual(Buffer.concat(parts), bytes.subarray(5000, 7801));
    const atEnd = [Buffer.alloc(150), Buffer.alloc(100).fill(7)];
    assert.equal(await reader.readParts(name, 9900, atEnd), 100, 'the object ends inside the first part');
    assert.deepEqual(atEnd[0]!.subarray(0, 100), bytes.subarray(9900));
    assert.ok(atEnd[1]!.every((x) => x === 7), 'parts past the end are left as they were');
    await rejectsKind(reader.readParts(id(), 0, [Buffer.alloc(10)]), 'not-found');
    await rejectsKind(reader.readParts(name, -5, [Buffer.alloc(10)]), 'integrity');
    await reader.close();
  });
});
