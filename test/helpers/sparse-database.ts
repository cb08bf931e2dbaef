import { closeSync, ftruncateSync, openSync, writeSync } from 'node:fs';
import { pseudoRandomBytes } from './tmp.js';

export const SQLITE_PAGE = 4096;

/**
 * A SQLite-looking file of `pages` 4 KiB pages: a SQLite header (so it is chunked page by page),
 * then for each other page the seed `seedOf` gives it, pseudo-random bytes from that seed, or a
 * hole (read as a zero page) where it gives null.
 */
export function writeDatabasePages(path: string, pages: number, seedOf: (page: number) => number | null): void {
  const fd = openSync(path, 'w');
  try {
    const header = Buffer.alloc(SQLITE_PAGE);
    header.write('SQLite format 3\0', 0, 'latin1');
    header.writeUInt16BE(SQLITE_PAGE, 16);
    writeSync(fd, header, 0, SQLITE_PAGE, 0);
    for (let page = 1; page < pages; page++) {
      const seed = seedOf(page);
      if (seed !== null) writeSync(fd, pseudoRandomBytes(SQLITE_PAGE, seed), 0, SQLITE_PAGE, page * SQLITE_PAGE);
    }
    ftruncateSync(fd, pages * SQLITE_PAGE);
  } finally {
    closeSync(fd);
  }
}

/**
 * A sparse SQLite-looking file of `pages` 4 KiB pages: pseudo-random pages at `distinct` (seeded
 * by `seed` and the page number), and holes that read as zero pages, which all make one chunk.
 */
export function writeSparseDatabase(path: string, pages: number, distinct: readonly number[], seed = 0): void {
  const written = new Set(distinct);
  writeDatabasePages(path, pages, (page) => (written.has(page) ? seed + page : null));
}
