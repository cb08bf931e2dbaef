/**
 * Media digests kept between catalog builds: the records, linkMedia's use of
 * them, and the sealed local file that keeps them.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { appendFileSync, lstatSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { MediaRef } from '../../../src/core/catalog/types.js';
import type { PendingMedia } from '../../../src/core/catalog/writer.js';
import { linkMedia } from '../../../src/core/importers/media.js';
import { MediaDigestCache } from '../../../src/core/importers/media-digest-cache.js';
import { DIGEST_RECORD_BYTES, fileStateKey, MediaDigests, validDigestRecords } from '../../../src/core/importers/media-digests.js';
import { tempDir } from './helpers.js';

const sha = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const stateKey = (abs: string) => fileStateKey(abs, lstatSync(abs, { bigint: true }));

test('digest records: sorted by key once each, found by key, and a set that is not sorted or whole is not trusted', () => {
  const d = new MediaDigests();
  const keys = Array.from({ length: 300 }, () => randomBytes(16));
  keys.forEach((k, i) => d.record(k, sha(String(i))));
  d.record(keys[7]!, sha('7')); // a file two messages name
  const records = d.sortedRecords();
  assert.equal(records.length, 300 * DIGEST_RECORD_BYTES);
  assert.equal(validDigestRecords(records), true);

  const known = new MediaDigests(records);
  keys.forEach((k, i) => assert.equal(known.lookup(k), sha(String(i))));
  assert.equal(known.lookup(randomBytes(16)), null);
  assert.equal(known.reused, 300);

  const swapped = Buffer.from(records);
  swapped.copy(swapped, 0, DIGEST_RECORD_BYTES, 2 * DIGEST_RECORD_BYTES);
  assert.equal(validDigestRecords(swapped), false, 'a key twice');
  assert.equal(validDigestRecords(records.subarray(0, records.length - 1)), false, 'a record cut short');
  assert.equal(new MediaDigests(swapped).lookup(keys[0]!), null, 'an untrusted set is not used');
  assert.equal(validDigestRecords(new Uint8Array(0)), true);
});

test('linkMedia with digests: a file as the last build saw it is not read again; a changed one is', async (t) => {
  const dir = tempDir(t);
  const names = ['a.jpg', 'b.jpg', 'c.jpg'];
  names.forEach((n) => writeFileSync(join(dir, n), `media ${n}`));
  const refs: PendingMedia[] = names.map((n, i) => ({ messageId: i + 1, relPath: n, name: null, mime: null, size: null }));
  const run = async (digests: MediaDigests) => {
    const rows = new Map<number, MediaRef>();
    await linkMedia((rel) => ({ abs: join(dir, rel), snapshotPath: rel, size: 0 }), {
      pendingMediaCount: refs.length,
      *pendingMedia() {
        yield* refs;
      },
      addMedia: (id, media) => void rows.set(id, media),
    }, { digests });
    return rows;
  };

  const first = new MediaDigests(null);
  const rows1 = await run(first);
  names.forEach((n, i) => assert.equal(rows1.get(i + 1)!.sha256, sha(`media ${n}`)));
  assert.equal(first.reused, 0);

  // What the last build recorded, but with a digest no file has for a.jpg as it is now:
  // if a.jpg were read, its row would show its true digest instead.
  assert.equal(new MediaDigests(first.sortedRecords()).lookup(stateKey(join(dir, 'a.jpg'))), sha('media a.jpg'));
  const planted = new MediaDigests();
  for (const n of names) planted.record(stateKey(join(dir, n)), n === 'a.jpg' ? 'ee'.repeat(32) : sha(`media ${n}`));
  const second = new MediaDigests(planted.sortedRecords());
  const rows2 = await run(second);
  assert.equal(rows2.get(1)!.sha256, 'ee'.repeat(32), 'a.jpg was taken from the digests, not read');
  assert.equal(rows2.get(2)!.sha256, sha('media b.jpg'));
  assert.equal(second.reused, 3);

  appendFileSync(join(dir, 'a.jpg'), ' edited');
  const third = new MediaDigests(second.sortedRecords());
  const rows3 = await run(third);
  assert.equal(rows3.get(1)!.sha256, sha('media a.jpg edited'), 'a changed file is read again');
  assert.equal(third.reused, 2);
  assert.equal(new MediaDigests(third.sortedRecords()).lookup(stateKey(join(dir, 'a.jpg'))), sha('media a.jpg edited'));
});

test('the digest cache: sealed per repository and source, ignored when damaged or moved, never an error to write', async (t) => {
  const dir = tempDir(t);
  const cacheDir = join(dir, 'cache');
  const key = randomBytes(32);
  const d = new MediaDigests();
  d.record(randomBytes(16), sha('x'));
  d.record(randomBytes(16), sha('y'));
  const records = d.sortedRecords();

  const cache = new MediaDigestCache(cacheDir, 'repo1', key, join(dir, 'WhatsApp'));
  assert.equal(cache.load(), null, 'nothing yet');
  assert.equal(cache.save(records), true);
  assert.deepEqual(new Uint8Array(cache.load()!), new Uint8Array(records));
  const [file] = readdirSync(cacheDir);
  assert.match(file!, /^repo1\.media-[0-9a-f]{32}$/);
  assert.equal(lstatSync(join(cacheDir, file!)).mode & 0o777, 0o600);
  assert.ok(!readFileSync(join(cacheDir, file!)).includes(Buffer.from(records.subarray(16, 48))), 'the digests are not in the clear');

  assert.equal(new MediaDigestCache(cacheDir, 'repo1', key, join(dir, 'Other')).load(), null, 'another source');
  assert.equal(new MediaDigestCache(cacheDir, 'repo1', randomBytes(32), join(dir, 'WhatsApp')).load(), null, 'another key');

  const sealed = readFileSync(join(cacheDir, file!));
  sealed[20]! ^= 1;
  writeFileSync(join(cacheDir, file!), sealed);
  assert.equal(cache.load(), null, 'a damaged copy is ignored');

  // A cache folder that cannot be made (a file is in the way): not written, and no error.
  writeFileSync(join(dir, 'a-file'), 'x');
  assert.equal(new MediaDigestCache(join(dir, 'a-file', 'cache'), 'repo1', key, join(dir, 'WhatsApp')).save(records), false);
});

test('linkMedia: a file named by many messages is hashed once, every message gets its digest', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'forwarded.jpg'), 'media forwarded');
  writeFileSync(join(dir, 'other.jpg'), 'media other');
  const refs: PendingMedia[] = Array.from({ length: 300 }, (_, i) => ({ messageId: i + 1, relPath: i % 100 === 99 ? 'other.jpg' : 'forwarded.jpg', name: null, mime: null, size: null }));
  const rows = new Map<number, MediaRef>();
  // Each read of a file asks the digests first: the count of asks is the count of reads.
  let asked = 0;
  const digests = new MediaDigests(null);
  const lookup = digests.lookup.bind(digests);
  digests.lookup = (key) => {
    asked += 1;
    return lookup(key);
  };
  await linkMedia((rel) => ({ abs: join(dir, rel), snapshotPath: rel, size: 0 }), {
    pendingMediaCount: refs.length,
    *pendingMedia() {
      yield* refs;
    },
    addMedia: (id, media) => void rows.set(id, media),
  }, { digests });
  assert.equal(asked, 2, 'one read for each distinct file');
  assert.equal(rows.size, 300);
  for (const [id, row] of rows) assert.equal(row.sha256, sha(id % 100 === 0 ? 'media other' : 'media forwarded'));
});
