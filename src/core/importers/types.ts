/** What detection and import tell the person before and after a backup. */
import type { MediaDigests } from './media-digests.js';

export type SourceKind =
  | 'whatsapp-android'
  | 'whatsapp-android-crypt'
  | 'whatsapp-ios'
  | 'whatsapp-ios-backup'
  | 'whatsapp-export-text'
  | 'telegram-json'
  | 'unknown';

export const SOURCE_LABELS: Record<SourceKind, string> = {
  'whatsapp-android': 'WhatsApp Android database',
  'whatsapp-android-crypt': 'WhatsApp Android encrypted backup',
  'whatsapp-ios': 'WhatsApp iPhone database',
  'whatsapp-ios-backup': 'iPhone backup with WhatsApp',
  'whatsapp-export-text': 'WhatsApp "Export chat" text',
  'telegram-json': 'Telegram Desktop export',
  unknown: 'Unknown files',
};

export interface DetectionCounts {
  chats: number | null;
  messages: number | null;
  mediaFiles: number | null;
}

export interface DetectionReport {
  readonly kind: SourceKind;
  /** Human label of the kind, e.g. "WhatsApp Android database". */
  readonly label: string;
  /** One line: "WhatsApp Android database: 8 chats, 62 messages, 1,204 media files, 1.2 GB". */
  readonly summary: string;
  /** The path that was examined, absolute. */
  readonly path: string;
  readonly counts: DetectionCounts;
  /** Every regular file under the path (or 1 for a file). */
  readonly totalFiles: number;
  readonly totalBytes: number;
  /** The files the importer will read, relative to the parent of `path` (as the snapshot names them). */
  readonly keyFiles: Record<string, string>;
  /** Extra facts (schema flavour, crypt format, export layout), for display. */
  readonly details: Record<string, string | number | boolean>;
  /** Things that will limit the import; the backup of the files themselves is still possible. */
  readonly problems: string[];
}

export interface UnknownRows {
  /** Where the rows came from, e.g. "message.message_type" or "telegram.message.type". */
  readonly where: string;
  /** The value not understood, e.g. "99". */
  readonly value: string;
  count: number;
  /** Up to three source row ids or line numbers, never content. */
  readonly examples: string[];
}

export interface ImportCounts {
  chats: number;
  messages: number;
  media: number;
  calls: number;
  reactions: number;
}

export interface ImportReport {
  readonly kind: SourceKind;
  readonly counts: ImportCounts;
  /** Rows or values the importer did not understand, kept as kind "unknown" or skipped and listed here. */
  readonly unknown: UnknownRows[];
  readonly warnings: string[];
  readonly durationMs: number;
}

export interface ImportProgress {
  readonly phase: 'reading' | 'indexing' | 'hashing-media';
  readonly done: number;
  readonly total: number | null;
}

export interface ImportOptions {
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: ImportProgress) => void;
  /**
   * false: every message through the importer's row loop, none by its bulk
   * SQL path. The two give the same catalog; tests hold them to it.
   */
  readonly bulk?: boolean;
  /** The media digests of the last build of this source, and where this build's are kept (media-digests.ts). */
  readonly mediaDigests?: MediaDigests;
}
