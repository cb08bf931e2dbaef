/**
 * A decrypted chat catalog opened for browsing: windows of messages by
 * position (what a virtualized list asks for), search, and where a search hit
 * sits in its chat. The catalog lives in a private temp folder (mode 0700)
 * that `close` removes.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { type Catalog, openCatalog } from '../core/catalog/index.js';
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

  constructor(
    readonly catalog: Catalog,
    private readonly dir: string,
  ) {}

  static async open(path: string, dir: string): Promise<CatalogView> {
    return new CatalogView(openCatalog(path), dir);
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
    this.catalog.close();
    this.chats.clear();
    await fs.rm(this.dir, { recursive: true, force: true });
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

/**
 * Writes a snapshot's catalog into `dir` (created 0700 by the caller) and
 * returns its path; every chunk is authenticated as it is read.
 */
export async function extractSnapshotCatalog(repo: Repository, snap: SnapshotRecord, dir: string): Promise<string> {
  const ref = snap.snapshot.catalog;
  if (!ref) throw new ChatsafeError('not-found', 'This snapshot has no chat catalog: its files were backed up, but they were not a chat export Chatsafe could read.', 'You can still restore the files.');
  const index = await repo.loadIndex();
  const path = join(dir, 'catalog.sqlite');
  const fh = await fs.open(path, 'wx', 0o600);
  try {
    for (const id of ref.content) await fh.write(await repo.readBlob(index, 'data', id));
  } finally {
    await fh.close();
  }
  return path;
}
