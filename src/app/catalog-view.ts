/**
 * A snapshot's chat catalog kept open for browsing: windows of messages by
 * position (what a virtualized list asks for, read straight from the
 * catalog's index, never the whole chat), where a search hit sits in its
 * chat, and the snapshot's media. The core's withSnapshotCatalog decrypts the
 * catalog into a private temp folder for the length of a callback; the view
 * holds that callback open until `close`, which removes the folder.
 */
import Database from 'better-sqlite3';
import type { Catalog } from '../core/catalog/index.js';
import { withSnapshotCatalog, type MediaReader } from '../core/catalog/snapshot-catalog.js';
import type { CatalogMessage } from '../core/catalog/types.js';
import { ChatsafeError } from '../core/errors.js';
import type { Repository } from '../core/repo/repository.js';
import type { SnapshotRecord } from '../core/repo/snapshot.js';
import type { MessageInfo } from './contract.js';

export class CatalogView {
  /**
   * A second read-only connection for position queries the core's Catalog
   * does not offer (offset to key, key to offset). Both walk the
   * (chat_id, timestamp, id) index only, so a window deep into a chat of
   * 100,000 messages costs milliseconds and nothing is held in memory.
   */
  private readonly positions: Database.Database;
  private readonly keyAtStmt: Database.Statement<[number, number], { timestamp: number; id: number }>;
  private readonly countStmt: Database.Statement<[number], { n: number }>;
  private readonly beforeStmt: Database.Statement<[number, number, number], { n: number }>;

  private constructor(
    readonly catalog: Catalog,
    readonly readMedia: MediaReader,
    private readonly release: () => Promise<void>,
  ) {
    this.positions = new Database(catalog.path, { readonly: true, fileMustExist: true });
    this.keyAtStmt = this.positions.prepare('SELECT timestamp, id FROM messages WHERE chat_id = ? ORDER BY timestamp, id LIMIT 1 OFFSET ?');
    this.countStmt = this.positions.prepare('SELECT count(*) AS n FROM messages WHERE chat_id = ?');
    this.beforeStmt = this.positions.prepare('SELECT count(*) AS n FROM messages WHERE chat_id = ? AND (timestamp, id) < (?, ?)');
  }

  static open(repo: Repository, snap: SnapshotRecord): Promise<CatalogView> {
    return CatalogView.hold((use) => withSnapshotCatalog(repo, snap, use));
  }

  /**
   * Keeps a `with…Catalog(fn)` scope open until `close`: the scope's temp
   * folder (the decrypted catalog) lives exactly as long as the view.
   */
  static hold(scope: (use: (catalog: Catalog, readMedia: MediaReader) => Promise<void>) => Promise<void>): Promise<CatalogView> {
    return new Promise((resolveView, reject) => {
      let letGo!: () => void;
      const held = new Promise<void>((r) => (letGo = r));
      let view: CatalogView | null = null;
      const running = scope((catalog, readMedia) => {
        view = new CatalogView(catalog, readMedia, async () => {
          letGo();
          await running;
        });
        resolveView(view);
        return held;
      });
      running.catch(reject);
    });
  }

  /** One window of a chat by position in (timestamp, id) order. */
  window(chatId: number, offset: number, limit: number): { total: number; messages: MessageInfo[] } {
    const total = this.countStmt.get(chatId)!.n;
    if (total === 0 && !this.catalog.chat(chatId)) throw new ChatsafeError('not-found', 'That chat is not in this backup.', 'Pick a chat from the list.');
    if (offset >= total) return { total, messages: [] };
    // The message just before the window is the cursor the core pages from.
    const cursor = offset === 0 ? null : (this.keyAtStmt.get(chatId, offset - 1) ?? null);
    return { total, messages: this.catalog.messagesAfter(chatId, cursor, limit).map(toMessageInfo) };
  }

  position(messageId: number): { chatId: number; offset: number } {
    const m = this.catalog.message(messageId);
    if (!m) throw new ChatsafeError('not-found', 'That message is not in this backup.', 'Search again.');
    return { chatId: m.chatId, offset: this.beforeStmt.get(m.chatId, m.timestamp, m.id)!.n };
  }

  async close(): Promise<void> {
    this.positions.close();
    await this.release();
  }
}

export function toMessageInfo(m: CatalogMessage): MessageInfo {
  return {
    id: m.id,
    chatId: m.chatId,
    sender: m.sender,
    fromMe: m.fromMe,
    timestamp: m.timestamp,
    kind: m.kind,
    text: m.text,
    media: m.media ? { name: m.media.name, mime: m.media.mime, size: m.media.size, available: m.media.path !== null } : null,
    edited: m.edited,
    deleted: m.deleted,
    reactions: m.reactions.map((r) => r.emoji),
  };
}
