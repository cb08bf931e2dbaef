/**
 * Writes a catalog. The database is built in a temporary file next to the
 * destination and renamed into place only by finish(), so a crash, an error
 * or a cancellation never leaves a half-written catalog under the final name.
 * Rows are inserted in large transactions without indexes; finish() builds
 * the indexes and the full-text index in one pass.
 *
 * Every value passes through the cleaning below, also on the bulk path
 * (`bulkFrom`), where an importer's SELECT over an attached source database
 * feeds the messages table without a JavaScript value per column.
 */
import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ChatsafeError } from '../errors.js';
import { CATALOG_INDEXES, CATALOG_SCHEMA_VERSION, CATALOG_TABLES } from './schema.js';
import type { ChatKind, MediaRef, MessageKind } from './types.js';
import { cleanName, cleanText } from './validate.js';

export interface NewMessage {
  /** Catalog id; when omitted the next free id is used. Importers pass the source's own row id when it is unique. */
  readonly id?: number;
  readonly chatId: number;
  readonly sender: string | null;
  readonly fromMe: boolean;
  readonly timestamp: number;
  readonly kind: MessageKind;
  readonly text: string | null;
  readonly replyTo?: number | null;
  /** Reply target known only by the source's key (resolved within the chat at finish). */
  readonly replyToKey?: string | null;
  /** The source's own key for this message, when other messages refer to it by that key. */
  readonly sourceKey?: string | null;
  readonly forwardedFrom?: string | null;
  readonly edited?: boolean;
  readonly deleted?: boolean;
}

export interface NewCall {
  readonly chatId: number | null;
  readonly peer: string | null;
  readonly fromMe: boolean;
  readonly timestamp: number;
  readonly durationSeconds: number;
  readonly video: boolean;
  readonly result: string;
}

/** A media reference whose file is found and hashed after the message pass (importers/media.ts). */
export interface PendingMedia {
  readonly messageId: number;
  /** The path the source names, relative to its media folder; null when it names none. */
  readonly relPath: string | null;
  readonly name: string | null;
  readonly mime: string | null;
  readonly size: number | null;
}

/** The schema name a bulk import's source database is attached under. */
export const BULK_SOURCE = 'src';

/**
 * Inserting messages straight from a source database (see `CatalogWriter.bulkFrom`).
 * Lookup tables live in the catalog's temporary schema as `temp."name"`.
 */
export interface MessageBulk {
  /** A lookup table `temp."name"` (k INTEGER PRIMARY KEY, then `columns`), filled with `rows`. */
  table(name: string, columns: readonly string[], rows: Iterable<readonly unknown[]>): void;
  /**
   * The senders most rows will name (contacts' and chats' names, 'You'), cleaned once here
   * instead of on every row that names them. A sender not given here is still cleaned, row by row.
   */
  names(senders: Iterable<string>): void;
  /**
   * Inserts the rows of `select`, whose columns are, by name: id, chat_id,
   * sender, from_me, timestamp, kind, text, reply_to, forwarded_from, edited,
   * deleted; cleaned as addMessage cleans them. `id` must be a source row id,
   * so unique; `timestamp` an integer; `kind` a MessageKind. Returns the rows inserted.
   */
  insertMessages(select: string, params?: readonly unknown[]): number;
  /**
   * Inserts (or replaces) media rows from `select`, whose columns are
   * message_id, path, name, mime, size, sha256, cleaned as addMedia cleans them.
   * Returns the rows written.
   */
  insertMedia(select: string, params?: readonly unknown[]): number;
  /** Registers a function the importer's statements may call (never a view or trigger of the source). */
  function(name: string, fn: (...args: unknown[]) => unknown): void;
  /** The rows of a query on the catalog's connection, as arrays: for reading the attached source between inserts. */
  rows(select: string, params?: readonly unknown[]): unknown[][];
  /** Detaches the source. */
  close(): void;
}

/**
 * Page cache of the catalog and of its temporary tables, in KiB each. Building the catalogs of the
 * 1 and 3 GiB bench exports took as long with 1 MiB as with 2, and peaked 5 MiB lower (with the
 * source's cache at 1 MiB too, sqlite-source.ts).
 */
const CACHE_KIB = 1_000;

/** The bulk path's table of senders cleaned once (`MessageBulk.names`). */
const CLEAN_NAMES = 'catalog_clean_names';

/** Rows per transaction: large enough to amortise commits, small enough to keep the page cache bounded. */
const BATCH = 20_000;

/**
 * Pending media are read back this many rows at a time: memory stays bounded,
 * and no statement is left open on the connection while media rows are written.
 */
const PENDING_MEDIA_PAGE = 1_000;

interface PendingMediaRow {
  id: number;
  message_id: number;
  rel_path: string | null;
  name: string | null;
  mime: string | null;
  size: number | null;
}

export class CatalogWriter {
  private readonly db: Database.Database;
  private readonly tempPath: string;
  private pending = 0;
  private nextMessageId = 1;
  private nextChatId = 1;
  private pendingMediaRows = 0;
  private done = false;
  /** Senders repeat on almost every row: their cleaned form is remembered (bounded). */
  private readonly senderCache = new Map<string, string | null>();
  private readonly stmt: {
    chat: Database.Statement;
    participant: Database.Statement;
    message: Database.Statement;
    media: Database.Statement;
    reaction: Database.Statement;
    call: Database.Statement;
    pendingReply: Database.Statement;
    pendingMedia: Database.Statement;
    pendingMediaPage: Database.Statement;
    meta: Database.Statement;
  };

  constructor(private readonly finalPath: string) {
    this.tempPath = join(dirname(finalPath), `.${basename(finalPath)}.${randomBytes(6).toString('hex')}.tmp`);
    try {
      this.db = new Database(this.tempPath);
    } catch (e) {
      throw new ChatsafeError('io', `Cannot create the catalog in ${dirname(finalPath)}: ${(e as Error).message}`, 'Check that the folder exists and is writable.');
    }
    // The temporary file is thrown away on any failure, so durability during the build buys nothing.
    this.db.pragma('journal_mode = OFF');
    this.db.pragma('synchronous = OFF');
    // Rows are appended in key order and the indexes are built once at the end, so a large page
    // cache buys no speed (measured: 2 MiB builds as fast as 32 MiB) while it adds to the peak memory.
    this.db.pragma(`cache_size = -${CACHE_KIB}`);
    this.db.pragma('temp_store = FILE');
    this.db.exec(CATALOG_TABLES);
    // The bulk path's cleaning: the same functions addMessage applies, callable only from our own
    // statements (never from a view or trigger an attached source might carry).
    this.db.function('catalog_text', { deterministic: true, directOnly: true }, (v: unknown) => cleanText(v) || null);
    this.db.function('catalog_clip', { deterministic: true, directOnly: true }, (v: unknown, max: unknown) => cleanText(v, Number(max)));
    this.db.function('catalog_name', { deterministic: true, directOnly: true }, (v: unknown) => (v === null ? null : this.cleanSender(String(v))));
    // The temporary tables (pending replies and media) get their own cache, 16 MiB by default.
    this.db.pragma(`temp.cache_size = -${CACHE_KIB}`);
    this.stmt = {
      chat: this.db.prepare('INSERT INTO chats (id, kind, name, address) VALUES (?, ?, ?, ?)'),
      participant: this.db.prepare('INSERT INTO participants (chat_id, name, address, is_admin) VALUES (?, ?, ?, ?)'),
      message: this.db.prepare(
        'INSERT INTO messages (id, chat_id, sender, from_me, timestamp, kind, text, reply_to, forwarded_from, edited, deleted, source_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      media: this.db.prepare('INSERT OR REPLACE INTO media (message_id, path, name, mime, size, sha256) VALUES (?, ?, ?, ?, ?, ?)'),
      reaction: this.db.prepare('INSERT INTO reactions (message_id, sender, emoji, timestamp) VALUES (?, ?, ?, ?)'),
      call: this.db.prepare('INSERT INTO calls (chat_id, peer, from_me, timestamp, duration_s, video, result) VALUES (?, ?, ?, ?, ?, ?, ?)'),
      pendingReply: this.db.prepare('INSERT INTO pending_replies (message_id, chat_id, key) VALUES (?, ?, ?)'),
      pendingMedia: this.db.prepare('INSERT INTO pending_media (message_id, rel_path, name, mime, size) VALUES (?, ?, ?, ?, ?)'),
      pendingMediaPage: this.db.prepare('SELECT id, message_id, rel_path, name, mime, size FROM pending_media WHERE id > ? ORDER BY id LIMIT ?'),
      meta: this.db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)'),
    };
    this.db.exec('BEGIN');
    this.setMeta('schema_version', String(CATALOG_SCHEMA_VERSION));
  }

  setMeta(key: string, value: string): void {
    this.stmt.meta.run(key, value);
  }

  addChat(chat: { kind: ChatKind; name: string | null; address?: string | null }): number {
    const id = this.nextChatId++;
    this.stmt.chat.run(id, chat.kind, cleanName(chat.name) ?? cleanName(chat.address) ?? `Chat ${id}`, cleanText(chat.address ?? null, 512));
    this.tick();
    return id;
  }

  addParticipant(chatId: number, p: { name: string | null; address?: string | null; admin?: boolean }): void {
    const name = cleanName(p.name) ?? cleanName(p.address);
    if (name === null) return;
    this.stmt.participant.run(chatId, name, cleanText(p.address ?? null, 512), p.admin ? 1 : 0);
    this.tick();
  }

  addMessage(m: NewMessage): number {
    const id = m.id ?? this.nextMessageId;
    if (id >= this.nextMessageId) this.nextMessageId = id + 1;
    this.stmt.message.run(
      id,
      m.chatId,
      this.cleanSender(m.sender),
      m.fromMe ? 1 : 0,
      Math.trunc(m.timestamp),
      m.kind,
      cleanText(m.text) || null,
      m.replyTo ?? null,
      cleanName(m.forwardedFrom ?? null),
      m.edited ? 1 : 0,
      m.deleted ? 1 : 0,
      m.sourceKey ? cleanText(m.sourceKey, 256) : null,
    );
    if (m.replyToKey) this.stmt.pendingReply.run(id, m.chatId, cleanText(m.replyToKey, 256));
    this.tick();
    return id;
  }

  /**
   * Attaches the database at `sourcePath` as BULK_SOURCE for bulk inserts, or
   * returns null when it cannot be attached (the importer then reads every row
   * itself). Only SELECTs reach the source; SQLite writes to an attached
   * database only for statements that change it, or to roll back a hot journal
   * or recover a WAL, and the importers open such databases from a private copy
   * (sqlite-source.ts), so the user's file is not written.
   */
  bulkFrom(sourcePath: string): MessageBulk | null {
    try {
      this.db.prepare(`ATTACH DATABASE ? AS ${BULK_SOURCE}`).run(sourcePath);
    } catch {
      return null;
    }
    // Each attached schema has its own page cache, 16 MiB by default; the source is read once, in id order.
    this.db.pragma(`${BULK_SOURCE}.cache_size = -${CACHE_KIB}`);
    // Each sender as given and as cleaned: a join per row instead of a call into JavaScript
    // (`catalog_name`, about half a microsecond each, on every row of a million-message database).
    this.db.exec(`CREATE TEMP TABLE ${CLEAN_NAMES} (raw TEXT PRIMARY KEY, clean TEXT) WITHOUT ROWID`);
    const tables: string[] = [CLEAN_NAMES];
    return {
      table: (name, columns, rows) => {
        const quote = (n: string) => `"${n.replace(/"/g, '""')}"`;
        this.db.exec(`CREATE TEMP TABLE ${quote(name)} (k INTEGER PRIMARY KEY${columns.map((c) => `, ${quote(c)}`).join('')})`);
        tables.push(name);
        const insert = this.db.prepare(`INSERT INTO temp.${quote(name)} VALUES (${['?', ...columns.map(() => '?')].join(', ')})`);
        for (const r of rows) insert.run(...r);
      },
      names: (senders) => {
        const insert = this.db.prepare(`INSERT OR IGNORE INTO temp.${CLEAN_NAMES} (raw, clean) VALUES (?, ?)`);
        for (const raw of senders) insert.run(raw, this.cleanSender(raw));
      },
      insertMessages: (select, params = []) => {
        // In id order, as the select gives them, whatever the join does: rows appended to the table.
        const { changes } = this.db
          .prepare(
            `INSERT INTO messages (id, chat_id, sender, from_me, timestamp, kind, text, reply_to, forwarded_from, edited, deleted)
             SELECT id, chat_id, CASE WHEN n.raw IS NOT NULL THEN n.clean WHEN sender IS NOT NULL THEN catalog_name(sender) END, from_me <> 0, timestamp, kind,
               CASE WHEN text IS NOT NULL THEN catalog_text(text) END, reply_to,
               CASE WHEN forwarded_from IS NOT NULL THEN catalog_name(forwarded_from) END, edited <> 0, deleted <> 0
             FROM (${select}) LEFT JOIN temp.${CLEAN_NAMES} n ON n.raw = sender
             ORDER BY id`,
          )
          .run(...params);
        const max = (this.db.prepare('SELECT max(id) AS m FROM messages').get() as { m: number | null }).m;
        if (max !== null && max >= this.nextMessageId) this.nextMessageId = max + 1;
        this.tick(changes);
        return changes;
      },
      insertMedia: (select, params = []) => {
        const { changes } = this.db
          .prepare(
            `INSERT OR REPLACE INTO media (message_id, path, name, mime, size, sha256)
             SELECT message_id, path, catalog_clip(name, 1024), catalog_clip(mime, 255), size, sha256 FROM (${select})`,
          )
          .run(...params);
        this.tick(changes);
        return changes;
      },
      function: (name, fn) => {
        this.db.function(name, { directOnly: true, varargs: true }, fn);
      },
      rows: (select, params = []) => this.db.prepare(select).raw(true).all(...params) as unknown[][],
      close: () => {
        for (const t of tables.splice(0)) this.db.exec(`DROP TABLE temp."${t.replace(/"/g, '""')}"`);
        // DETACH is refused inside a transaction: the rows so far are committed first.
        this.db.exec(`COMMIT; DETACH DATABASE ${BULK_SOURCE}; BEGIN`);
        this.pending = 0;
      },
    };
  }

  private cleanSender(sender: string | null): string | null {
    if (sender === null) return null;
    let v = this.senderCache.get(sender);
    if (v === undefined) {
      v = cleanName(sender);
      if (this.senderCache.size < 10_000) this.senderCache.set(sender, v);
    }
    return v;
  }

  addMedia(messageId: number, media: MediaRef): void {
    this.stmt.media.run(messageId, media.path, cleanText(media.name, 1024), cleanText(media.mime, 255), media.size, media.sha256);
    this.tick();
  }

  /**
   * Remembers a media reference until the message pass is over (in a
   * temporary table, not in memory: an export can name millions of files).
   */
  addPendingMedia(p: PendingMedia): void {
    this.stmt.pendingMedia.run(p.messageId, p.relPath, p.name, p.mime, p.size);
    this.pendingMediaRows += 1;
    this.tick();
  }

  /** How many media references addPendingMedia has received. */
  get pendingMediaCount(): number {
    return this.pendingMediaRows;
  }

  /**
   * The pending media references in the order they were added, read a page at
   * a time, so the caller may write (addMedia) between two of them.
   */
  *pendingMedia(): Generator<PendingMedia> {
    let after = 0;
    for (;;) {
      const page = this.stmt.pendingMediaPage.all(after, PENDING_MEDIA_PAGE) as PendingMediaRow[];
      for (const r of page) yield { messageId: r.message_id, relPath: r.rel_path, name: r.name, mime: r.mime, size: r.size };
      if (page.length < PENDING_MEDIA_PAGE) return;
      after = page[page.length - 1]!.id;
    }
  }

  addReaction(messageId: number, r: { sender: string | null; emoji: string; timestamp: number | null }): void {
    const emoji = cleanText(r.emoji, 64);
    if (!emoji) return;
    this.stmt.reaction.run(messageId, cleanName(r.sender), emoji, r.timestamp);
    this.tick();
  }

  addCall(c: NewCall): void {
    this.stmt.call.run(c.chatId, cleanName(c.peer), c.fromMe ? 1 : 0, Math.trunc(c.timestamp), Math.max(0, Math.trunc(c.durationSeconds)), c.video ? 1 : 0, c.result);
    this.tick();
  }

  /** Commits the open batch when it is large enough; keeps memory flat on million-row imports. */
  private tick(rows = 1): void {
    this.pending += rows;
    if (this.pending >= BATCH) {
      this.db.exec('COMMIT; BEGIN');
      this.pending = 0;
    }
  }

  /** Builds indexes, resolves replies, computes per-chat figures, then moves the file into place. */
  finish(): void {
    try {
      this.db.exec('COMMIT');
      this.db.exec('BEGIN');
      this.db.exec(CATALOG_INDEXES);
      const hasPending = (this.db.prepare('SELECT EXISTS (SELECT 1 FROM pending_replies) AS e').get() as { e: number }).e === 1;
      if (hasPending) {
        this.db.exec(`
          CREATE INDEX messages_source_key ON messages (chat_id, source_key) WHERE source_key IS NOT NULL;
          UPDATE messages SET reply_to = (
            SELECT t.id FROM pending_replies p JOIN messages t ON t.chat_id = p.chat_id AND t.source_key = p.key
            WHERE p.message_id = messages.id LIMIT 1)
          WHERE id IN (SELECT message_id FROM pending_replies);
          DROP INDEX messages_source_key;`);
      }
      // A reply whose target was not imported (deleted, skipped) keeps no dangling id.
      this.db.exec(`
        UPDATE messages SET reply_to = NULL WHERE reply_to IS NOT NULL AND NOT EXISTS (SELECT 1 FROM messages t WHERE t.id = messages.reply_to);
        UPDATE chats SET
          message_count = (SELECT count(*) FROM messages m WHERE m.chat_id = chats.id),
          last_message_at = (SELECT max(timestamp) FROM messages m WHERE m.chat_id = chats.id);`);
      this.db.exec('COMMIT');
      // Rollback journal mode, so read-only readers never need to create -wal/-shm files.
      this.db.pragma('journal_mode = DELETE');
      this.db.close();
      this.done = true;
      renameSync(this.tempPath, this.finalPath);
    } catch (e) {
      this.abort();
      throw e;
    }
  }

  /** Discards everything written so far. Safe to call more than once. */
  abort(): void {
    if (this.db.open) {
      try {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
      } catch {
        // closing below discards the transaction anyway
      }
      this.db.close();
    }
    this.done = true;
    rmSync(this.tempPath, { force: true });
  }

  get finished(): boolean {
    return this.done;
  }
}
