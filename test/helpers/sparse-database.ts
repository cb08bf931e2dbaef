import { closeSync, ftruncateSync, openSync, writeSync } from 'node:fs';
import { pseudoRandomBytes } from './tmp.js';

export const SQLITE_PAGE = 4096;

/**
 * A sparse SQLite-looking file of `pages` 4 KiB pages: a SQLite header (so it is chunked page by
 * page), pseudo-random pages at `distinct` (seeded by `seed` and the page number), and holes that
 * read as zero pages, which all make one chunk.
 */
export function writeSparseDatabase(path: string, pages: number, distinct: readonly number[], seed = 0): void {
  const fd = openSync(path, 'w');
  try {
    const header = Buffer.alloc(SQLITE_PAGE);
    header.write('SQLite format 3\0', 0, 'latin1');
    header.writeUInt16BE(SQLITE_PAGE, 16);
    writeSync(fd, header, 0, SQLITE_PAGE, 0);
    for (const page of distinct) writeSync(fd, pseudoRandomBytes(SQLITE_PAGE, seed + page), 0, SQLITE_PAGE, page * SQLITE_PAGE);
    ftruncateSync(fd, pages * SQLITE_PAGE);
  } finally {
    closeSync(fd);
  }
}
