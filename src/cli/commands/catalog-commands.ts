/**
 * Browsing a backup without restoring it: `chats`, `messages`, `search` and
 * `export-html` read the chat catalog stored in a snapshot.
 */
import { lstat } from 'node:fs/promises';
import { parseArgs } from '../args.js';
import { withSnapshotCatalog } from '../../core/catalog/snapshot-catalog.js';
import { exportHtml } from '../../core/catalog/export-html.js';
import { ChatsafeError, UsageError } from '../../core/errors.js';
import { ftsQuery } from '../../core/catalog/catalog.js';
import type { Command } from '../command.js';
import { printJson, type CliIO } from '../io.js';
import { openRepo, parseCount, REPO_OPTIONS } from '../repo-access.js';

/**
 * Only forms that mean one instant: `Date.parse` also takes "March 7" (as 2001, in local time) and a
 * time without a zone (local time), so a typo or a missing zone quietly moved the range.
 */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2}))?$/;

function parseTime(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (/^\d{1,15}$/.test(value)) return Number(value);
  const t = ISO_TIME.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(t)) throw new UsageError(`--${name} must be a date (2021-03-12, taken as UTC), a time with its zone (2021-03-12T10:15:00Z) or UTC milliseconds; got "${value}".`);
  return t;
}

export const chatsCommand: Command = {
  name: 'chats',
  summary: 'list the chats in a backup',
  usage: `Usage: chatsafe chats --repo PATH [SNAPSHOT|latest] [--key-file FILE] [--json]`,
  async run(args: string[], io: CliIO): Promise<number> {
    const { values, positionals } = parseArgs({ args, options: REPO_OPTIONS, allowPositionals: true });
    if (positionals.length > 1) throw new UsageError(`Unexpected argument "${positionals[1]}".`);
    const repo = await openRepo(values, io);
    const snap = await repo.findSnapshot(positionals[0] ?? 'latest');
    const chats = await withSnapshotCatalog(repo, snap, async (c) => c.listChats());
    if (values.json) printJson(io, chats);
    else for (const c of chats) io.stdout.write(`${String(c.id).padStart(6)}  ${c.kind.padEnd(9)}  ${String(c.messageCount).padStart(7)} msgs  ${c.name}\n`);
    return 0;
  },
};

export const messagesCommand: Command = {
  name: 'messages',
  summary: 'show the messages of one chat in a backup',
  usage: `Usage: chatsafe messages --repo PATH [SNAPSHOT|latest] CHAT_ID [--after T] [--before T] [--limit N] [--key-file FILE] [--json]

T is a date (2021-03-12, taken as UTC), a time with its zone
(2021-03-12T10:15:00Z, 2021-03-12T10:15+01:00) or UTC milliseconds. At most
--limit messages (default 100) in time order.`,
  async run(args: string[], io: CliIO): Promise<number> {
    const { values, positionals } = parseArgs({
      args,
      options: { ...REPO_OPTIONS, after: { type: 'string' }, before: { type: 'string' }, limit: { type: 'string' } },
      allowPositionals: true,
    });
    if (positionals.length < 1 || positionals.length > 2) throw new UsageError('Which chat? Give its id from `chatsafe chats`.');
    const chatArg = positionals[positionals.length - 1]!;
    if (!/^\d{1,12}$/.test(chatArg)) throw new UsageError(`"${chatArg}" is not a chat id (a number from \`chatsafe chats\`).`);
    const limit = parseCount(values.limit, 'limit', 100);
    const repo = await openRepo(values, io);
    const snap = await repo.findSnapshot(positionals.length === 2 ? positionals[0]! : 'latest');
    const after = parseTime(values.after, 'after');
    const before = parseTime(values.before, 'before');
    const chatId = Number(chatArg);
    const messages = await withSnapshotCatalog(repo, snap, async (c) => {
      if (!c.listChats().some((chat) => chat.id === chatId)) throw new ChatsafeError('not-found', `This backup has no chat ${chatId}.`, 'Run `chatsafe chats` to see the chat ids.');
      return c.listMessages(chatId, { limit, ...(after !== undefined ? { after } : {}), ...(before !== undefined ? { before } : {}) });
    });
    if (values.json) printJson(io, messages);
    else for (const m of messages) io.stdout.write(`${new Date(m.timestamp).toISOString()}  ${m.sender ?? '—'}: ${m.text ?? `[${m.kind}]`}${m.media ? ` (${m.media.path})` : ''}\n`);
    return 0;
  },
};

export const searchCommand: Command = {
  name: 'search',
  summary: 'search all messages of a backup',
  usage: `Usage: chatsafe search --repo PATH [SNAPSHOT|latest] QUERY [--limit N] [--key-file FILE] [--json]`,
  async run(args: string[], io: CliIO): Promise<number> {
    const { values, positionals } = parseArgs({ args, options: { ...REPO_OPTIONS, limit: { type: 'string' } }, allowPositionals: true });
    if (positionals.length < 1 || positionals.length > 2) throw new UsageError('Search for what? Give a query.');
    const query = positionals[positionals.length - 1]!;
    if (ftsQuery(query) === null) throw new UsageError('Search for what? The query has no words in it.', 'Give one or more words: chatsafe search --repo PATH "words to find"');
    const limit = parseCount(values.limit, 'limit', 50);
    const repo = await openRepo(values, io);
    const snap = await repo.findSnapshot(positionals.length === 2 ? positionals[0]! : 'latest');
    const hits = await withSnapshotCatalog(repo, snap, async (c) => c.search(query, { limit }));
    if (values.json) printJson(io, hits);
    else {
      if (hits.length === 0) io.stdout.write('No messages match.\n');
      for (const h of hits) io.stdout.write(`${JSON.stringify(h)}\n`);
    }
    return 0;
  },
};

export const exportHtmlCommand: Command = {
  name: 'export-html',
  summary: 'write every chat of a backup as offline HTML pages with their media',
  usage: `Usage: chatsafe export-html --repo PATH [SNAPSHOT|latest] --out DIR [--key-file FILE] [--json]

Writes one self-contained page per chat, readable offline, with its media
beside it. DIR must be new or empty.`,
  async run(args: string[], io: CliIO): Promise<number> {
    const { values, positionals } = parseArgs({ args, options: { ...REPO_OPTIONS, out: { type: 'string' } }, allowPositionals: true });
    if (!values.out) throw new UsageError('Where to? Pass --out DIR.');
    if (positionals.length > 1) throw new UsageError(`Unexpected argument "${positionals[1]}".`);
    const out = values.out;
    // The pages are built beside DIR and renamed over it: that is only for a folder (not a link to one).
    const existing = await lstat(out).catch(() => null);
    if (existing && !existing.isDirectory()) throw new UsageError(`${out} exists and is not a folder.`, 'Give --out a new or empty folder.');
    const repo = await openRepo(values, io);
    const snap = await repo.findSnapshot(positionals[0] ?? 'latest');
    const result = await withSnapshotCatalog(repo, snap, (c, readMedia) => exportHtml(c, out, readMedia, { signal: io.signal }));
    if (values.json) printJson(io, { out, ...result });
    else io.stdout.write(`Wrote ${result.chats} chat page(s) and ${result.files} file(s) to ${out}.\n`);
    return 0;
  },
};
