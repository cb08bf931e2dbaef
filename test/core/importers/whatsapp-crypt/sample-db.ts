/** A small generated SQLite database shaped like a WhatsApp msgstore, for the crypt tests. */
import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Writes a database into `dir` and returns its bytes. `noiseBytes` adds an
 * incompressible blob so the encrypted file spans several read chunks.
 */
export function makeSampleDb(dir: string, opts: { messages?: number; noiseBytes?: number } = {}): Buffer {
  const path = join(dir, `sample-${randomBytes(4).toString('hex')}.db`);
  const db = new Database(path);
  try {
    db.exec(`CREATE TABLE message (_id INTEGER PRIMARY KEY, chat_row_id INTEGER, from_me INTEGER, timestamp INTEGER, text_data TEXT);
             CREATE TABLE blob_store (id INTEGER PRIMARY KEY, data BLOB);`);
    const ins = db.prepare('INSERT INTO message (chat_row_id, from_me, timestamp, text_data) VALUES (?, ?, ?, ?)');
    db.transaction(() => {
      for (let i = 0; i < (opts.messages ?? 200); i += 1) ins.run(1 + (i % 3), i % 2, 1_600_000_000_000 + i * 60_000, `message number ${i}`);
    })();
    if (opts.noiseBytes) db.prepare('INSERT INTO blob_store (data) VALUES (?)').run(randomBytes(opts.noiseBytes));
  } finally {
    db.close();
  }
  const bytes = readFileSync(path);
  rmSync(path);
  return bytes;
}
