/**
 * The storage contract (src/core/storage/backend.ts), checked the same way on
 * every back end. Each back end's test file calls `conformance(...)` with a
 * way to get a fresh, empty destination and to leave and count debris.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { ChatsafeError } from '../../../src/core/errors.js';
import { OBJECT_KINDS, type ObjectInfo, type ObjectKind, type StorageBackend } from '../../../src/core/storage/backend.js';

export interface BackendUnderTest {
  /** A backend on a new, empty destination (create() not yet called). */
  fresh(): Promise<StorageBackend>;
  /** Leaves what an interrupted write leaves behind (a temporary file, an unfinished upload). */
  makeDebris(b: StorageBackend): Promise<void>;
  /** How much such debris is there now. */
  countDebris(b: StorageBackend): Promise<number>;
  /** Size for the large-object test (above the multipart threshold where there is one). */
  readonly largeSize: number;
}

export const id = (): string => randomBytes(32).toString('hex');

export async function listAll(b: StorageBackend, kind: ObjectKind): Promise<ObjectInfo[]> {
  const out: ObjectInfo[] = [];
  for await (const o of b.list(kind)) out.push(o);
  return out.sort((a, c) => a.name.localeCompare(c.name));
}

export async function rejectsKind(p: Promise<unknown>, kind: ChatsafeError['kind']): Promise<ChatsafeError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof ChatsafeError, `expected a ChatsafeError, got ${String(e)}`);
    assert.equal(e.kind, kind, `expected ${kind}, got ${e.kind}: ${e.message}`);
    return e;
  }
  assert.fail(`expected a ${kind} error, but it succeeded`);
}

async function withFresh(t: BackendUnderTest, body: (b: StorageBackend) => Promise<void>): Promise<void> {
  const b = await t.fresh();
  try {
    await b.create();
    await body(b);
  } finally {
    await b.close();
  }
}

/** Contract checks a back end is known to fail, with the reason; they run as `todo` until fixed. */
export interface KnownGaps {
  readonly ranges?: string;
  readonly names?: string;
}

export function conformance(name: string, get: () => BackendUnderTest, skip: string | false = false, gaps: KnownGaps = {}): void {
  describe(`storage contract: ${name}`, { skip }, () => {
    it('creates an empty destination once, then refuses a second create', async () => {
      await withFresh(get(), async (b) => {
        assert.deepEqual(await listAll(b, 'keys'), []);
        await b.write('config', 'config', Buffer.from('header'));
        await rejectsKind(b.create(), 'conflict');
      });
    });

    it('round-trips every kind, whole and from parts, including empty objects', async () => {
      await withFresh(get(), async (b) => {
        const written = new Map<string, Buffer>();
        for (const kind of OBJECT_KINDS) {
          const n = kind === 'config' ? 'config' : id();
          const bytes = randomBytes(1000 + Math.floor(Math.random() * 5000));
          await b.write(kind, n, [bytes.subarray(0, 10), bytes.subarray(10, 500), bytes.subarray(500)]);
          written.set(`${kind}/${n}`, bytes);
        }
        const empty = id();
        await b.write('index', empty, Buffer.alloc(0));
        for (const [key, bytes] of written) {
          const [kind, n] = key.split('/') as [ObjectKind, string];
          assert.deepEqual(await b.read(kind, n), bytes, key);
          assert.deepEqual(await b.stat(kind, n), { name: n, size: bytes.length });
        }
        assert.equal((await b.read('index', empty)).length, 0);
        assert.deepEqual(await b.stat('index', empty), { name: empty, size: 0 });
      });
    });

    it('reads byte ranges, short at the end and empty past it', async () => {
      await withFresh(get(), async (b) => {
        const n = id();
        const bytes = randomBytes(10_000);
        await b.write('data', n, bytes);
        assert.deepEqual(await b.read('data', n, { offset: 0, length: 1 }), bytes.subarray(0, 1));
        assert.deepEqual(await b.read('data', n, { offset: 1234, length: 4321 }), bytes.subarray(1234, 5555));
        assert.deepEqual(await b.read('data', n, { offset: 9_990, length: 100 }), bytes.subarray(9_990));
        assert.equal((await b.read('data', n, { offset: 10_000, length: 10 })).length, 0);
        assert.equal((await b.read('data', n, { offset: 20, length: 0 })).length, 0);
        await rejectsKind(b.read('data', id(), { offset: 0, length: 0 }), 'not-found');
      });
    });

    it('reads a range into a buffer it is given (not into a copy), or into its own when it is too small', async () => {
      await withFresh(get(), async (b) => {
        const n = id();
        const bytes = randomBytes(10_000);
        await b.write('data', n, bytes);
        const into = Buffer.alloc(8_000, 0xee);
        const got = await b.read('data', n, { offset: 1000, length: 5000 }, into);
        assert.deepEqual(got, bytes.subarray(1000, 6000));
        // A restore reads into a few buffers it reuses; a backend's own copy would double its memory.
        assert.equal(got.buffer, into.buffer, 'the bytes are in the given buffer');
        assert.equal(got.byteOffset, into.byteOffset, 'a filled buffer is returned from its start');
        assert.deepEqual(await b.read('data', n, { offset: 9_000, length: 2000 }, Buffer.alloc(2000)), bytes.subarray(9_000), 'short at the end');
        assert.deepEqual(await b.read('data', n, { offset: 0, length: 100 }, Buffer.alloc(10)), bytes.subarray(0, 100), 'a buffer too small is not used');
      });
    });

    it('reads a range into parts in turn, in one request: short at the end, none past it', async () => {
      await withFresh(get(), async (b) => {
        // A local folder reads into parts through its range reader (local-folder.test.ts); S3 and WebDAV here.
        if (!b.readParts) {
          assert.ok(b.rangeReader?.('data').readParts, 'every back end reads into parts');
          return;
        }
        const n = id();
        const bytes = randomBytes(10_000);
        await b.write('data', n, bytes);
        const parts = [Buffer.alloc(100), Buffer.alloc(0), Buffer.alloc(2345), Buffer.alloc(7)];
        assert.equal(await b.readParts('data', n, 5000, parts), 2452);
        assert.deepEqual(Buffer.concat(parts), bytes.subarray(5000, 7452));
        const atEnd = [Buffer.alloc(30), Buffer.alloc(40, 0xee)];
        assert.equal(await b.readParts('data', n, 9_980, atEnd), 20, 'short at the end');
        assert.deepEqual(atEnd[0]!.subarray(0, 20), bytes.subarray(9_980));
        assert.equal(await b.readParts('data', n, 10_000, [Buffer.alloc(5)]), 0, 'none past the end');
        await rejectsKind(b.readParts('data', id(), 0, [Buffer.alloc(5)]), 'not-found');
      });
    });

    it('rejects invalid byte ranges', { todo: gaps.ranges }, async () => {
      await withFresh(get(), async (b) => {
        const n = id();
        await b.write('data', n, randomBytes(100));
        await rejectsKind(b.read('data', n, { offset: -1, length: 3 }), 'integrity');
        await rejectsKind(b.read('data', n, { offset: 0, length: -3 }), 'integrity');
        await rejectsKind(b.read('data', n, { offset: 0.5, length: 3 }), 'integrity');
      });
    });

    it('lists exactly the objects of each kind, with sizes', async () => {
      await withFresh(get(), async (b) => {
        const data = Array.from({ length: 7 }, () => id()).sort();
        for (const [i, n] of data.entries()) await b.write('data', n, randomBytes(i + 1));
        const snaps = [id(), id()].sort();
        for (const n of snaps) await b.write('snapshots', n, Buffer.from('s'));
        await b.write('config', 'config', Buffer.from('cfg'));
        await get().makeDebris(b);
        const listed = await listAll(b, 'data');
        assert.deepEqual(listed.map((o) => o.name), data);
        for (const o of listed) assert.equal(o.size, data.indexOf(o.name) + 1);
        assert.deepEqual((await listAll(b, 'snapshots')).map((o) => o.name), snaps);
        assert.deepEqual(await listAll(b, 'config'), [{ name: 'config', size: 3 }]);
        assert.deepEqual(await listAll(b, 'index'), []);
      });
    });

    it('keeps objects immutable (conflict), except locks', async () => {
      await withFresh(get(), async (b) => {
        const n = id();
        const first = randomBytes(300);
        await b.write('snapshots', n, first);
        await rejectsKind(b.write('snapshots', n, randomBytes(300)), 'conflict');
        await rejectsKind(b.write('snapshots', n, first), 'conflict');
        assert.deepEqual(await b.read('snapshots', n), first);
        await rejectsKind(b.write('config', 'config', Buffer.from('a')).then(() => b.write('config', 'config', Buffer.from('b'))), 'conflict');
        assert.deepEqual(await b.read('config', 'config'), Buffer.from('a'));
        const lock = id();
        await b.write('locks', lock, Buffer.from('one'));
        await b.write('locks', lock, Buffer.from('two'));
        assert.deepEqual(await b.read('locks', lock), Buffer.from('two'));
      });
    });

    it('reports missing objects as not-found and removes idempotently', async () => {
      await withFresh(get(), async (b) => {
        const n = id();
        assert.equal(await b.stat('keys', n), null);
        await rejectsKind(b.read('keys', n), 'not-found');
        await b.write('keys', n, Buffer.from('k'));
        await b.remove('keys', n);
        await b.remove('keys', n);
        assert.equal(await b.stat('keys', n), null);
        await rejectsKind(b.read('keys', n), 'not-found');
        assert.deepEqual(await listAll(b, 'keys'), []);
        await b.write('keys', n, Buffer.from('again'));
        assert.deepEqual(await b.read('keys', n), Buffer.from('again'));
      });
    });

    it('rejects invalid names before they reach the storage', { todo: gaps.names }, async () => {
      await withFresh(get(), async (b) => {
        for (const bad of ['../../etc/passwd', 'ABCDEF0123456789', 'abc', 'config', `${id()}/x`, '0123456789abcdef\n', `${'a'.repeat(65)}`]) {
          await rejectsKind(b.write('data', bad, Buffer.from('x')), 'integrity');
          await rejectsKind(b.read('data', bad), 'integrity');
          await rejectsKind(b.stat('data', bad), 'integrity');
          await rejectsKind(b.remove('data', bad), 'integrity');
        }
        await rejectsKind(b.write('config', id(), Buffer.from('x')), 'integrity');
      });
    });

    it('skips debris in listings and removes it with cleanup', async () => {
      await withFresh(get(), async (b) => {
        const t = get();
        const keep = id();
        await b.write('data', keep, Buffer.from('kept'));
        await t.makeDebris(b);
        assert.ok((await t.countDebris(b)) > 0, 'debris was made');
        assert.deepEqual((await listAll(b, 'data')).map((o) => o.name), [keep]);
        await b.cleanup();
        assert.equal(await t.countDebris(b), 0);
        assert.deepEqual(await b.read('data', keep), Buffer.from('kept'));
      });
    });

    it('stores large objects whole (multipart where the back end uses it)', async () => {
      await withFresh(get(), async (b) => {
        const size = get().largeSize;
        const parts = [randomBytes(Math.floor(size / 3)), randomBytes(size - 2 * Math.floor(size / 3)), randomBytes(Math.floor(size / 3))];
        const whole = Buffer.concat(parts);
        const n = id();
        await b.write('data', n, parts);
        assert.deepEqual(await b.stat('data', n), { name: n, size: whole.length });
        const back = await b.read('data', n);
        assert.equal(createHash('sha256').update(back).digest('hex'), createHash('sha256').update(whole).digest('hex'));
        const mid = 5 * 1024 * 1024 - 100;
        assert.deepEqual(await b.read('data', n, { offset: mid, length: 300 }), whole.subarray(mid, mid + 300));
        await rejectsKind(b.write('data', n, whole), 'conflict');
        assert.equal(await get().countDebris(b), 0, 'a finished upload leaves no debris');
      });
    });

    it('handles parallel writes of distinct objects', async () => {
      await withFresh(get(), async (b) => {
        const objs = Array.from({ length: 12 }, () => ({ n: id(), bytes: randomBytes(2048) }));
        await Promise.all(objs.map((o) => b.write('index', o.n, o.bytes)));
        for (const o of objs) assert.deepEqual(await b.read('index', o.n), o.bytes);
        assert.equal((await listAll(b, 'index')).length, objs.length);
      });
    });
  });
}
