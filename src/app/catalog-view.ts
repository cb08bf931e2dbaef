/**
 * A snapshot's chat catalog kept open for browsing: windows of messages by
 * position (what a virtualized list asks for), where a search hit sits in its
 * chat, and the snapshot's media. The core's withSnapshotCatalog decrypts the
 * catalog into a private temp folder for the length of a callback; the view
 * holds that callback open until `close`, which removes the folder.
 */
import type { Catalog } from '../core/catalog/index.js';
import { withSnapshotCatalog, type MediaReader } from '../core/catalog/snapshot-catalog.js';
import type { CatalogMessage } from '../core/catalog/types.js';
import { ChatsafeError } from '../core/errors.js';
import type { Repository } from '../core/repo/repository.js';
import type { SnapshotRecord } from '../core/repo/snapshot.js';
import type { MessageInfo } from './contract.js';

/** Page size for reading a chat through once, in (timestamp, id) order. */
const PAGE = 10_000;

export class CatalogView {
  /** Each chat's messages in time order, read on first use (100,000 messages are a few tens of MB). */
  private readonly chats = new Map<number, CatalogMessage[]>();

  private constructor(
    readonly catalog: Catalog,
    readonly readMedia: MediaReader,
    private readonly release: () => Promise<void>,
  ) {}

  static open(repo: Repository, snap: SnapshotRecord): Promise<CatalogView> {
    return new Promise((resolveView, reject) => {
      let letGo!: () => void;
      const held = new Promise<void>((r) => (letGo = r));
      const scope = withSnapshotCatalog(repo, snap, (catalog, readMedia) => {
        resolveView(
          new CatalogView(catalog, readMedia, async () => {
            letGo();
            await scope;
          }),
        );
        return held;
      });
      scope.catch(reject);
    });
  }

  messagesOf(chatId: number): CatalogMessage[] {
    let list = this.chats.get(chatId);
    if (list) return list;
    if (!this.catalog.chat(chatId)) throw new ChatsafeError('not-found', 'That chat is not in this backup.', 'Pick a chat from the list.');
    list = [];
    let cursor: { timestamp: number; id: number } | null = null;
    while (true) {
      const page = this.catalog.messagesAfter(chatId, cursor, PAGE);
      list.push(...page);
      if (page.length < PAGE) break;
      const lastMsg = page[page.length - 1]!;
      cursor = { timestamp: lastMsg.timestamp, id: lastMsg.id };
    }
    this.chats.set(chatId, list);
    return list;
  }

  window(chatId: number, offset: number, limit: number): { total: number; messages: MessageInfo[] } {
    const all = this.messagesOf(chatId);
    return { total: all.length, messages: all.slice(offset, offset + limit).map(toMessageInfo) };
  }

  position(messageId: number): { chatId: number; offset: number } {
    const m = this.catalog.message(messageId);
    if (!m) throw new ChatsafeError('not-found', 'That message is not in this backup.', 'Search again.');
    const offset = this.messagesOf(m.chatId).findIndex((x) => x.id === messageId);
    return { chatId: m.chatId, offset: Math.max(0, offset) };
  }

  async close(): Promise<void> {
    this.chats.clear();
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
