/**
 * Opening a phone's SQLite database without touching it. better-sqlite3 does
 * not take URI filenames, so `immutable=1` is not available; and opening a
 * WAL-mode database read-only still makes SQLite create `-shm`/`-wal` files
 * beside it. So: the header is checked first (a clear error for files that
 * are not SQLite), rollback-journal databases without a hot journal are
 * opened read-only in place (SQLite then writes nothing), and WAL databases
 * are copied, with their `-wal` file, into a private temporary folder and
 * opened there. The input is never written to.
 */
import Database from 'better-sqlite3';
import { closeSync, copyFileSync, existsSync, mkdtempSync, openSync, readSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { ChatsafeError, throwIfCancelled } from '../errors.js';

const MAGIC = Buffer.from('SQLite format 3\0', 'latin1');

export interface SourceDb {
  readonly db: Database.Database;
  readonly path: string;
  close(): void;
}

/** Reads the first bytes of a file; returns fewer when the file is shorter. */
export function readHead(path: string, length: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(length);
    const n = readSync(fd, buf, 0, length, 0);
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

export function isSqliteFile(path: string): boolean {
  try {
    return statSync(path).isFile() && readHead(path, 16).equals(MAGIC);
  } catch {
    return false;
  }
}

export function openSourceDb(path: string): SourceDb {
  let head: Buffer;
  try {
    head = readHead(path, 100);
  } catch (e) {
    throw new ChatsafeError('not-found', `Cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}.`, 'Check the path and its permissions.');
  }
  if (head.length < 100 || !head.subarray(0, 16).equals(MAGIC)) {
    throw new ChatsafeError('unsupported', `${path} is not a SQLite database (${head.length < 100 ? 'it is too short' : 'its header is wrong'}).`, 'Give the plain database file; an encrypted WhatsApp backup (.crypt14/.crypt15) needs its key.');
  }
  const wal = head[18] === 2 || head[19] === 2;
  const hotJournal = existsSync(`${path}-journal`);
  let workPath = path;
  let tempDir: string | null = null;
  if (wal || hotJournal) {
    tempDir = mkdtempSync(join(tmpdir(), 'chatsafe-src-'));
    workPath = join(tempDir, 'source.db');
    try {
      copyFileSync(path, workPath);
      for (const side of ['-wal', '-journal']) if (existsSync(`${path}${side}`)) copyFileSync(`${path}${side}`, `${workPath}${side}`);
    } catch (e) {
      rmSync(tempDir, { recursive: true, force: true });
      throw new ChatsafeError('io', `Cannot copy ${path} to a temporary folder to read it safely: ${(e as Error).message}.`, 'Free some space in the temporary folder and try again.');
    }
  }
  const cleanup = () => {
    if (tempDir) rmSync(tempDir, { recursive: true, force: true });
  };
  let db: Database.Database;
  try {
    // The copy in our own folder may need its -shm; the original is never opened writable.
    db = new Database(workPath, { readonly: tempDir === null, fileMustExist: true });
    db.pragma('query_only = 1');
    // Importers read the big tables once, in rowid order: a small page cache keeps the import's
    // memory flat (this SQLite build's default is 16 MiB) and leaves some room for lookups. 4 MiB
    // built the bench exports' catalogs no faster than 1 MiB.
    db.pragma('cache_size = -1000');
    db.prepare('SELECT count(*) FROM sqlite_master').get();
  } catch (e) {
    cleanup();
    throw new ChatsafeError('integrity', `${path} is damaged: ${(e as Error).message}.`, 'Copy the file from the phone again; if it keeps failing, back it up as plain files.');
  }
  return {
    db,
    path,
    close() {
      if (db.open) db.close();
      cleanup();
    },
  };
}

/**
 * The source's tables, not its views: a view is a query the file's author wrote, and one named
 * like a table the importers read (`message AS WITH RECURSIVE …`) ran without end inside SQLite,
 * where no signal reaches. WhatsApp's own views (`message_view`, `chat_view`, …) are not read.
 */
export function tableNames(db: Database.Database): Set<string> {
  return new Set((db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((r) => r.name));
}

export function columnNames(db: Database.Database, table: string): Set<string> {
  return new Set((db.prepare(`SELECT name FROM pragma_table_info(?)`).all(table) as { name: string }[]).map((r) => r.name));
}

/** Whether some index of `table` starts with `column` (false when the schema cannot be read). */
export function hasIndexOn(db: Database.Database, table: string, column: string): boolean {
  try {
    const indexes = db.prepare('SELECT name FROM pragma_index_list(?)').all(table) as { name: string }[];
    return indexes.some(({ name }) => (db.prepare('SELECT name FROM pragma_index_info(?) WHERE seqno = 0').get(name) as { name?: string } | undefined)?.name === column);
  } catch {
    return false;
  }
}

/** Runs a count query, returning null instead of throwing on a damaged or unexpected table. */
export function safeCount(db: Database.Database, sql: string, ...args: unknown[]): number | null {
  try {
    const row = db.prepare(sql).get(...args) as Record<string, unknown> | undefined;
    const v = row ? Object.values(row)[0] : null;
    return typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : null;
  } catch {
    return null;
  }
}

export function describe(path: string): string {
  return basename(path);
}

/** How often (in rows) a long read checks for cancellation, reports progress and lets the event loop run. */
const YIELD_EVERY = 10_000;

/**
 * Streams the rows of a query to `each`, one at a time (memory stays flat
 * however many rows), checking for cancellation and reporting progress every
 * YIELD_EVERY rows.
 */
export async function forEachRow(
  db: Database.Database,
  sql: string,
  each: (row: Record<string, unknown>) => void,
  opts: RowLoopOptions = {},
): Promise<number> {
  return rowLoop(db.prepare(sql).iterate() as Iterable<Record<string, unknown>>, each, opts);
}

/** `forEachRow` with each row as an array in the query's column order: no object per row, for the largest tables. */
export async function forEachRawRow(db: Database.Database, sql: string, each: (row: unknown[]) => void, opts: RowLoopOptions = {}): Promise<number> {
  return rowLoop(db.prepare(sql).raw(true).iterate() as Iterable<unknown[]>, each, opts);
}

interface RowLoopOptions {
  signal?: AbortSignal;
  onProgress?: (done: number, total: number | null) => void;
  total?: number | null;
}

async function rowLoop<R>(rows: Iterable<R>, each: (row: R) => void, opts: RowLoopOptions): Promise<number> {
  let n = 0;
  for (const row of rows) {
    if (++n % YIELD_EVERY === 0) {
      throwIfCancelled(opts.signal);
      opts.onProgress?.(n, opts.total ?? null);
      await new Promise<void>((r) => setImmediate(r));
    }
    each(row);
  }
  return n;
}
