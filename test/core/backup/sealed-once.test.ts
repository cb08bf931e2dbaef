import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { backup } from '../../../src/core/backup/backup.js';
import type { BlobIndex } from '../../../src/core/repo/master-index.js';
import { repoWithSource } from '../../helpers/repo.js';
import { SQLITE_PAGE, writeDatabasePages } from '../../helpers/sparse-database.js';

const PAGES = 12_000;
const FAR = 10_000;

/**
 * A page's content: every 16th page repeats the page 100 before it (while that one's pack, about a
 * thousand pages, is still open or on its way), and pages from FAR on repeat the first ones (long
 * written by then).
 */
const seedOf = (page: number) => (page >= FAR ? page - FAR + 1 : page % 16 === 0 && page > 100 ? page - 100 : page);
/** Distinct pages, the header's among them: more than the 8192 ids a worker keeps before it first lets go of the indexed ones. */
const DISTINCT = 1 + new Set(Array.from({ length: PAGES - 1 }, (_, i) => seedOf(i + 1))).size;

/** Blob entries in all packs, repeats included. */
function entries(index: BlobIndex): number {
  let n = 0;
  for (const pack of index.packs.keys()) n += index.blobCountOf(pack)!;
  return n;
}

test('a chunk repeated across the packs of one backup is sealed once, and a stored one not again', async (t) => {
  const { src, repo } = await repoWithSource(t, {});
  writeDatabasePages(join(src, 'msgstore.db'), PAGES, seedOf); // its pages repeat, near and far
  // One worker: two may each seal a chunk whose first copy the other holds in a pack not yet written.
  const first = await backup(repo, { sources: [src], workers: 1 });
  let index = await repo.loadIndex();
  assert.equal(entries(index), index.blobCount, 'no blob is in two packs');
  // Each distinct page once; beside them the chunk lists (32 bytes a page) and listings.
  const pageBytes = DISTINCT * SQLITE_PAGE;
  const { newBytes } = first.snapshot.summary;
  assert.ok(newBytes >= pageBytes + PAGES * 32 && newBytes < pageBytes + PAGES * 32 + 16 * 1024, `${newBytes} bytes stored for ${pageBytes} of distinct pages`);

  // The same pages under another name: the workers find every page in the index.
  copyFileSync(join(src, 'msgstore.db'), join(src, 'copy.db'));
  const second = await backup(repo, { sources: [src], workers: 2 });
  index = await repo.loadIndex();
  assert.equal(entries(index), index.blobCount);
  assert.ok(second.snapshot.summary.newBytes < 64 * 1024, `only listings are new: ${second.snapshot.summary.newBytes} bytes`);
});
