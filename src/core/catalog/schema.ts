/**
 * The catalog's SQLite schema. Version 1. Times are UTC milliseconds; every
 * text column holds text the importer already checked (see writer.ts).
 * Indexes the readers need are created by the writer once the rows are in
 * (bulk inserts into an unindexed table are several times faster).
 */
export const CATALOG_SCHEMA_VERSION = 1;

export const CATALOG_TABLES = `
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE chats (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  address TEXT,
  message_count INTEGER NOT NULL DEFAULT 0,
  last_message_at INTEGER
);
CREATE TABLE participants (
  chat_id INTEGER NOT NULL REFERENCES chats(id),
  name TEXT NOT NULL,
  address TEXT,
  is_admin INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE messages (
  id INTEGER PRIMARY KEY,
  chat_id INTEGER NOT NULL,
  sender TEXT,
  from_me INTEGER NOT NULL DEFAULT 0,
  timestamp INTEGER NOT NULL,
  kind TEXT NOT NULL,
  text TEXT,
  reply_to INTEGER,
  forwarded_from TEXT,
  edited INTEGER NOT NULL DEFAULT 0,
  deleted INTEGER NOT NULL DEFAULT 0,
  source_key TEXT
);
CREATE TABLE media (
  message_id INTEGER PRIMARY KEY,
  path TEXT,
  name TEXT,
  mime TEXT,
  size INTEGER,
  sha256 TEXT
);
CREATE TABLE reactions (
  message_id INTEGER NOT NULL,
  sender TEXT,
  emoji TEXT NOT NULL,
  timestamp INTEGER
);
CREATE TABLE calls (
  id INTEGER PRIMARY KEY,
  chat_id INTEGER,
  peer TEXT,
  from_me INTEGER NOT NULL,
  timestamp INTEGER NOT NULL,
  duration_s INTEGER NOT NULL,
  video INTEGER NOT NULL,
  result TEXT NOT NULL
);
-- Replies whose target is known only by the source's own key (iOS stanza id,
-- Telegram message id); resolved to catalog ids when the import finishes.
CREATE TEMP TABLE pending_replies (message_id INTEGER NOT NULL, chat_id INTEGER NOT NULL, key TEXT NOT NULL);
-- Media references waiting for their file to be found and hashed after the
-- message pass; kept here rather than in the importer's memory, read back in
-- insertion (rowid) order.
CREATE TEMP TABLE pending_media (id INTEGER PRIMARY KEY, message_id INTEGER NOT NULL, rel_path TEXT, name TEXT, mime TEXT, size INTEGER);
`;

/**
 * The full-text index keeps no token count per message (`columnsize=0`): only ranking (bm25) reads
 * them, and search orders by time. Without them the index of the 1 GiB reference export's 333,500
 * messages was built in 0.18-0.21 s instead of 0.29-0.37, and that catalog is 3.0 MB smaller
 * (43.7 MB); the same searches, phrases and NEAR included, return the same rows and snippets.
 */
export const CATALOG_INDEXES = `
CREATE INDEX messages_chat_time ON messages (chat_id, timestamp, id);
CREATE INDEX participants_chat ON participants (chat_id);
CREATE INDEX reactions_message ON reactions (message_id);
CREATE INDEX calls_time ON calls (timestamp);
CREATE VIRTUAL TABLE messages_fts USING fts5 (text, content='messages', content_rowid='id', tokenize='unicode61 remove_diacritics 2', columnsize=0);
INSERT INTO messages_fts (messages_fts) VALUES ('rebuild');
`;
