/**
 * Reading a catalog: chat list, pages of messages, full-text search. Opened
 * read-only; the catalog is written in rollback-journal mode (writer.ts), so
 * reading it creates no files beside it.
 */
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { ChatsafeError, UsageError } from '../errors.js';
import { CATALOG_SCHEMA_VERSION } from './schema.js';
import type { CatalogCall, CatalogMessage, ChatKind, ChatSummary, MessageKind, Reaction, SearchHit } from './types.js';

export interface ListMessagesOptions {
  /** Only messages strictly after this UTC ms time. */
  readonly after?: number;
  /** Only messages strictly before this UTC ms time. */
  readonly before?: number;
  /** At most this many (default 100, at most 10,000). */
  readonly limit?: number;
}

interface MessageRow {
  id: number;
  chat_id: number;
  sender: string | null;
  from_me: number;
  timestamp: number;
  kind: string;
  text: string | null;
  reply_to: number | null;
  forwarded_from: string | null;
  edited: number;
  deleted: number;
  m_path: string | null;
  m_name: string | null;
  m_mime: string | null;
  m_size: number | null;
  m_sha256: string | null;
  has_media: number | null;
}

const MAX_PAGE = 10_000;

export class Catalog {
  private readonly db: Database.Database;

  constructor(readonly path: string) {
    if (!existsSync(path)) throw new ChatsafeError('not-found', `Catalog not found: ${path}`, 'Check the path; catalogs are created by `chatsafe backup`.');
    try {
      this.db = new Database(path, { readonly: true, fileMustExist: true });
      const row = this.db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string } | undefined;
      if (!row) throw new Error('no schema version');
      if (Number(row.value) !== CATALOG_SCHEMA_VERSION) {
        this.db.close();
        throw new ChatsafeError('unsupported', `${basename(path)}: catalog schema version ${row.value} is not supported (this version reads ${CATALOG_SCHEMA_VERSION}).`, 'Update Chatsafe to read this backup.');
      }
    } catch (e) {
      if (e instanceof ChatsafeError) throw e;
      throw new ChatsafeError('integrity', `${basename(path)} is not a readable Chatsafe catalog (${(e as Error).message}).`, 'The catalog is damaged; run `chatsafe check --read-data` on the repository.');
    }
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  meta(key: string): string | null {
    const row = this.db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined;
    return row?.value ?? null;
  }

  listChats(): ChatSummary[] {
    const chats = this.db.prepare('SELECT id, name, kind, message_count, last_message_at FROM chats ORDER BY coalesce(last_message_at, 0) DESC, id').all() as {
      id: number;
      name: string;
      kind: string;
      message_count: number;
      last_message_at: number | null;
    }[];
    const parts = new Map<number, string[]>();
    for (const p of this.db.prepare('SELECT chat_id, name FROM participants ORDER BY chat_id, rowid').iterate() as Iterable<{ chat_id: number; name: string }>) {
      let list = parts.get(p.chat_id);
      if (!list) parts.set(p.chat_id, (list = []));
      list.push(p.name);
    }
    return chats.map((c) => ({
      id: c.id,
      name: c.name,
      kind: c.kind as ChatKind,
      messageCount: c.message_count,
      lastMessageAt: c.last_message_at,
      participants: parts.get(c.id) ?? [],
    }));
  }

  chat(chatId: number): ChatSummary | null {
    return this.listChats().find((c) => c.id === chatId) ?? null;
  }

  /** Messages of one chat in time order. With only `before`, the newest page before that time. */
  listMessages(chatId: number, opts: ListMessagesOptions = {}): CatalogMessage[] {
    if (!Number.isSafeInteger(chatId)) throw new UsageError(`Chat id must be an integer, got ${String(chatId)}.`, 'Use an id from `chatsafe chats`.');
    const limit = Math.min(Math.max(1, Math.trunc(opts.limit ?? 100)), MAX_PAGE);
    const where = ['m.chat_id = ?'];
    const args: number[] = [chatId];
    if (opts.after !== undefined) {
      where.push('m.timestamp > ?');
      args.push(opts.after);
    }
    if (opts.before !== undefined) {
      where.push('m.timestamp < ?');
      args.push(opts.before);
    }
    const newestFirst = opts.before !== undefined && opts.after === undefined;
    const sql = `SELECT m.*, md.path AS m_path, md.name AS m_name, md.mime AS m_mime, md.size AS m_size, md.sha256 AS m_sha256, md.message_id AS has_media
      FROM messages m LEFT JOIN media md ON md.message_id = m.id
      WHERE ${where.join(' AND ')} ORDER BY m.timestamp ${newestFirst ? 'DESC' : 'ASC'}, m.id ${newestFirst ? 'DESC' : 'ASC'} LIMIT ${limit}`;
    const rows = this.db.prepare(sql).all(...args) as MessageRow[];
    if (newestFirst) rows.reverse();
    const reactions = this.reactionsFor(rows.map((r) => r.id));
    return rows.map((r) => toMessage(r, reactions.get(r.id) ?? []));
  }

  /**
   * One page of a chat in (timestamp, id) order after a cursor: for walking a
   * whole chat (export) without skipping messages that share a timestamp.
   */
  messagesAfter(chatId: number, cursor: { timestamp: number; id: number } | null, limit = 1000): CatalogMessage[] {
    const n = Math.min(Math.max(1, Math.trunc(limit)), MAX_PAGE);
    const rows = this.db
      .prepare(
        `SELECT m.*, md.path AS m_path, md.name AS m_name, md.mime AS m_mime, md.size AS m_size, md.sha256 AS m_sha256, md.message_id AS has_media
         FROM messages m LEFT JOIN media md ON md.message_id = m.id
         WHERE m.chat_id = ? AND (m.timestamp, m.id) > (?, ?) ORDER BY m.timestamp, m.id LIMIT ${n}`,
      )
      .all(chatId, cursor?.timestamp ?? Number.MIN_SAFE_INTEGER, cursor?.id ?? Number.MIN_SAFE_INTEGER) as MessageRow[];
    const reactions = this.reactionsFor(rows.map((r) => r.id));
    return rows.map((r) => toMessage(r, reactions.get(r.id) ?? []));
  }

  message(id: number): CatalogMessage | null {
    const r = this.db
      .prepare(
        `SELECT m.*, md.path AS m_path, md.name AS m_name, md.mime AS m_mime, md.size AS m_size, md.sha256 AS m_sha256, md.message_id AS has_media
         FROM messages m LEFT JOIN media md ON md.message_id = m.id WHERE m.id = ?`,
      )
      .get(id) as MessageRow | undefined;
    return r ? toMessage(r, this.reactionsFor([r.id]).get(r.id) ?? []) : null;
  }

  private reactionsFor(ids: number[]): Map<number, Reaction[]> {
    const out = new Map<number, Reaction[]>();
    if (ids.length === 0) return out;
    const stmt = this.db.prepare(`SELECT message_id, sender, emoji, timestamp FROM reactions WHERE message_id IN (SELECT value FROM json_each(?)) ORDER BY rowid`);
    for (const r of stmt.all(JSON.stringify(ids)) as { message_id: number; sender: string | null; emoji: string; timestamp: number | null }[]) {
      let list = out.get(r.message_id);
      if (!list) out.set(r.message_id, (list = []));
      list.push({ sender: r.sender, emoji: r.emoji, timestamp: r.timestamp });
    }
    return out;
  }

  /** Full-text search over message text: every word must match (as a word prefix); the latest matches, newest first. */
  search(query: string, opts: { limit?: number; chatId?: number } = {}): SearchHit[] {
    const match = ftsQuery(query);
    if (match === null) return [];
    const limit = Math.min(Math.max(1, Math.trunc(opts.limit ?? 50)), 1000);
    const chatFilter = opts.chatId !== undefined ? 'AND m.chat_id = ?' : '';
    const args: (string | number)[] = [match];
    if (opts.chatId !== undefined) args.push(opts.chatId);
    const rows = this.db
      .prepare(
        `SELECT m.id, m.chat_id, c.name AS chat_name, m.timestamp, m.sender, snippet(messages_fts, 0, '«', '»', '…', 12) AS snippet
         FROM messages_fts JOIN messages m ON m.id = messages_fts.rowid JOIN chats c ON c.id = m.chat_id
         WHERE messages_fts MATCH ? ${chatFilter} ORDER BY messages_fts.rowid DESC LIMIT ${limit}`,
      )
      .all(...args) as { id: number; chat_id: number; chat_name: string; timestamp: number; sender: string | null; snippet: string }[];
    // FTS5 walks rowids in order and stops at the limit; ids follow each source's own order, which is
    // time order within a chat, so the page is the latest matches. It is then shown newest first.
    rows.sort((a, b) => b.timestamp - a.timestamp || b.id - a.id);
    return rows.map((r) => ({ chatId: r.chat_id, chatName: r.chat_name, messageId: r.id, timestamp: r.timestamp, sender: r.sender, snippet: r.snippet }));
  }

  calls(): CatalogCall[] {
    const rows = this.db.prepare('SELECT * FROM calls ORDER BY timestamp, id').all() as {
      id: number;
      chat_id: number | null;
      peer: string | null;
      from_me: number;
      timestamp: number;
      duration_s: number;
      video: number;
      result: string;
    }[];
    return rows.map((r) => ({ id: r.id, chatId: r.chat_id, peer: r.peer, fromMe: r.from_me === 1, timestamp: r.timestamp, durationSeconds: r.duration_s, video: r.video === 1, result: r.result }));
  }

  counts(): { chats: number; messages: number; media: number; calls: number; reactions: number } {
    const one = (sql: string) => (this.db.prepare(sql).get() as { n: number }).n;
    return {
      chats: one('SELECT count(*) AS n FROM chats'),
      messages: one('SELECT count(*) AS n FROM messages'),
      media: one('SELECT count(*) AS n FROM media'),
      calls: one('SELECT count(*) AS n FROM calls'),
      reactions: one('SELECT count(*) AS n FROM reactions'),
    };
  }
}

function toMessage(r: MessageRow, reactions: Reaction[]): CatalogMessage {
  return {
    id: r.id,
    chatId: r.chat_id,
    sender: r.sender,
    fromMe: r.from_me === 1,
    timestamp: r.timestamp,
    kind: r.kind as MessageKind,
    text: r.text,
    media: r.has_media === null ? null : { path: r.m_path, name: r.m_name, mime: r.m_mime, size: r.m_size, sha256: r.m_sha256 },
    replyTo: r.reply_to,
    forwardedFrom: r.forwarded_from,
    edited: r.edited === 1,
    deleted: r.deleted === 1,
    reactions,
  };
}

/**
 * Turns what a person typed into an FTS5 query that cannot be a syntax error:
 * each word becomes a quoted prefix term, so operators and quotes are just text.
 */
export function ftsQuery(query: string): string | null {
  const words = query
    .normalize('NFKC')
    .split(/[\s\p{P}\p{S}]+/u)
    .filter((w) => w.length > 0)
    .slice(0, 32);
  if (words.length === 0) return null;
  return words.map((w) => `"${w.replace(/"/g, '""')}"*`).join(' ');
}

/** Opens a catalog read-only. Close it when done. */
export function openCatalog(path: string): Catalog {
  return new Catalog(path);
}
