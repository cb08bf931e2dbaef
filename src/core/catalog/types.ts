/**
 * The normalized chat catalog: what every importer writes and every front
 * reads. Values come from hostile files, so readers treat every field as
 * already validated by the writer (see writer.ts) and nothing more.
 */

export type ChatKind = 'direct' | 'group' | 'broadcast' | 'status' | 'channel' | 'saved' | 'unknown';

export type MessageKind =
  | 'text'
  | 'image'
  | 'video'
  | 'audio'
  | 'voice'
  | 'document'
  | 'sticker'
  | 'gif'
  | 'location'
  | 'contact'
  | 'poll'
  | 'call'
  | 'system'
  | 'deleted'
  | 'unknown';

export const MESSAGE_KINDS: readonly MessageKind[] = [
  'text', 'image', 'video', 'audio', 'voice', 'document', 'sticker', 'gif', 'location', 'contact', 'poll', 'call', 'system', 'deleted', 'unknown',
];

export interface MediaRef {
  /** Path of the file inside the snapshot tree (starts with the source's base name), or null when the file was not in the source. */
  readonly path: string | null;
  /** The file name the source gave, for display when the file itself is missing. */
  readonly name: string | null;
  readonly mime: string | null;
  readonly size: number | null;
  /** Hex SHA-256 of the file, when the file was present and read. */
  readonly sha256: string | null;
}

export interface Reaction {
  readonly sender: string | null;
  readonly emoji: string;
  readonly timestamp: number | null;
}

export interface ChatSummary {
  readonly id: number;
  readonly name: string;
  readonly kind: ChatKind;
  readonly messageCount: number;
  /** UTC ms of the newest message, or null for an empty chat. */
  readonly lastMessageAt: number | null;
  readonly participants: string[];
}

export interface CatalogMessage {
  readonly id: number;
  readonly chatId: number;
  /** Display name; null for system events. */
  readonly sender: string | null;
  readonly fromMe: boolean;
  /** UTC milliseconds. */
  readonly timestamp: number;
  readonly kind: MessageKind;
  readonly text: string | null;
  readonly media: MediaRef | null;
  /** Catalog id of the message this one replies to, when it is in the catalog. */
  readonly replyTo: number | null;
  readonly forwardedFrom: string | null;
  readonly edited: boolean;
  readonly deleted: boolean;
  readonly reactions: Reaction[];
}

export interface CatalogCall {
  readonly id: number;
  readonly chatId: number | null;
  readonly peer: string | null;
  readonly fromMe: boolean;
  readonly timestamp: number;
  readonly durationSeconds: number;
  readonly video: boolean;
  readonly result: string;
}

export interface SearchHit {
  readonly chatId: number;
  readonly chatName: string;
  readonly messageId: number;
  readonly timestamp: number;
  readonly sender: string | null;
  /** Excerpt with the matches between « and ». */
  readonly snippet: string;
}
