/**
 * Telegram Desktop's JSON export (`result.json`): one chat
 * (`{name, type, id, messages}`) or a whole account
 * (`{personal_information, chats: {list}, left_chats: {list}}`).
 * Text arrives as a string or as an array of strings and entity objects;
 * service messages (group created, member added…) become system events;
 * replies, forwards, edits, reactions and media paths are kept.
 */
import { readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import type { ChatKind, MessageKind } from '../catalog/types.js';
import { cleanName, cleanText, toCount, validMillis, validSeconds } from '../catalog/validate.js';
import type { CatalogWriter } from '../catalog/writer.js';
import { ChatsafeError, throwIfCancelled } from '../errors.js';
import { linkMedia, linkOptions, type MediaResolver } from './media.js';
import { readingCheckpoint } from './progress.js';
import type { ReportCollector } from './report.js';
import type { ImportOptions } from './types.js';

/** JSON.parse needs the whole file in memory (several times its size); larger exports are refused with a hint. */
export const MAX_TELEGRAM_JSON_BYTES = 256 * 1024 * 1024;

type Json = Record<string, unknown>;

const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

export function readTelegramJson(path: string): Json {
  const size = statSync(path).size;
  if (size > MAX_TELEGRAM_JSON_BYTES) throw new ChatsafeError('unsupported', `${basename(path)} is ${size} bytes; Telegram exports over ${MAX_TELEGRAM_JSON_BYTES} bytes are not imported.`, 'Export the chats one by one from Telegram Desktop, or back the file up as a plain file.');
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new ChatsafeError('integrity', `${basename(path)} is not valid JSON (${(e as Error).message.slice(0, 120)}).`, 'Export again from Telegram Desktop with the "Machine-readable JSON" format.');
  }
  if (!isObj(doc)) throw new ChatsafeError('unsupported', `${basename(path)} is not a Telegram export (the top level is not an object).`, 'Give the result.json Telegram Desktop wrote.');
  return doc;
}

/** The chats of an export, single-chat or whole-account. */
export function telegramChats(doc: Json): { scope: 'single-chat' | 'account'; chats: Json[] } {
  if (Array.isArray(doc.messages)) return { scope: 'single-chat', chats: [doc] };
  const lists = [doc.chats, doc.left_chats].filter(isObj).map((c) => c.list).filter(Array.isArray) as unknown[][];
  if (lists.length === 0) throw new ChatsafeError('unsupported', 'The JSON has neither "messages" nor "chats": not a Telegram Desktop export.', 'Give the result.json Telegram Desktop wrote.');
  return { scope: 'account', chats: lists.flat().filter(isObj) };
}

const MEDIA_FIELDS = ['photo', 'file', 'thumbnail'] as const;

export function countTelegram(path: string): { chats: number; messages: number; mediaRefs: number; scope: string } {
  const { scope, chats } = telegramChats(readTelegramJson(path));
  let messages = 0;
  let mediaRefs = 0;
  for (const c of chats) {
    const list = Array.isArray(c.messages) ? c.messages : [];
    messages += list.length;
    for (const m of list) if (isObj(m) && (typeof m.photo === 'string' || typeof m.file === 'string')) mediaRefs += 1;
  }
  return { chats: chats.length, messages, mediaRefs, scope };
}

const CHAT_KIND: Record<string, ChatKind> = {
  personal_chat: 'direct',
  bot_chat: 'direct',
  private_group: 'group',
  private_supergroup: 'group',
  public_supergroup: 'group',
  private_channel: 'channel',
  public_channel: 'channel',
  saved_messages: 'saved',
};

/** A message's text: a string, or an array of strings and `{type, text}` entities. */
export function telegramText(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (!Array.isArray(value)) return null;
  return value.map((part) => (typeof part === 'string' ? part : isObj(part) && typeof part.text === 'string' ? part.text : '')).join('');
}

function mediaKind(m: Json): MessageKind {
  const t = typeof m.media_type === 'string' ? m.media_type : null;
  if (typeof m.photo === 'string') return 'image';
  switch (t) {
    case 'sticker':
      return 'sticker';
    case 'voice_message':
      return 'voice';
    case 'audio_file':
      return 'audio';
    case 'video_file':
    case 'video_message':
      return 'video';
    case 'animation':
      return 'gif';
    case null:
      return 'document';
    default:
      return 'unknown';
  }
}

export async function importTelegram(path: string, resolver: MediaResolver | null, writer: CatalogWriter, report: ReportCollector, opts: ImportOptions): Promise<void> {
  const doc = readTelegramJson(path);
  const { scope, chats } = telegramChats(doc);
  writer.setMeta('source_schema', `telegram-json-${scope}`);
  const me = isObj(doc.personal_information) ? toCount(doc.personal_information.user_id) : null;
  const meId = me !== null ? `user${me}` : null;
  const total = chats.reduce((n, c) => n + (Array.isArray(c.messages) ? c.messages.length : 0), 0);
  let done = 0;
  for (const c of chats) {
    throwIfCancelled(opts.signal);
    const type = typeof c.type === 'string' ? c.type : '';
    const kind = CHAT_KIND[type] ?? 'unknown';
    if (kind === 'unknown') report.unknown('telegram chat.type', type, String(c.id));
    const chatId = writer.addChat({ kind, name: kind === 'saved' ? 'Saved Messages' : cleanName(c.name) ?? 'Deleted chat', address: c.id !== undefined ? `telegram:${String(c.id)}` : null });
    report.counts.chats += 1;
    const people = new Set<string>();
    const list = Array.isArray(c.messages) ? c.messages : [];
    for (const raw of list) {
      await readingCheckpoint(++done, total, opts);
      if (!isObj(raw)) {
        report.unknown('telegram message', 'not an object', String(c.id));
        continue;
      }
      const m = raw;
      const msgType = m.type;
      const ts = validSeconds(m.date_unixtime) ?? (typeof m.date === 'string' ? validMillis(Date.parse(`${m.date}Z`)) : null);
      if (ts === null) report.unknown('telegram message.date', 'not a valid time', String(m.id));
      const key = m.id !== undefined ? String(m.id) : null;
      const base = { chatId, timestamp: ts ?? 0, sourceKey: key, replyToKey: m.reply_to_message_id !== undefined ? String(m.reply_to_message_id) : null };
      if (msgType === 'service') {
        const actor = cleanName(m.actor);
        const action = typeof m.action === 'string' ? m.action.replace(/_/g, ' ') : 'event';
        const extra = [cleanText(m.title, 256), Array.isArray(m.members) ? m.members.map((x) => cleanName(x)).filter(Boolean).join(', ') : null].filter(Boolean).join(': ');
        writer.addMessage({ ...base, sender: null, fromMe: false, kind: 'system', text: [actor, action, extra].filter(Boolean).join(' ') });
        report.counts.messages += 1;
        continue;
      }
      if (msgType !== 'message') {
        report.unknown('telegram message.type', msgType, String(m.id));
        writer.addMessage({ ...base, sender: cleanName(m.from), fromMe: false, kind: 'unknown', text: telegramText(m.text) });
        report.counts.messages += 1;
        continue;
      }
      const fromMe = meId !== null && m.from_id === meId;
      const sender = cleanName(m.from) ?? (m.from_id ? 'Deleted Account' : cleanName(c.name));
      if (sender) people.add(sender);
      let kind: MessageKind = 'text';
      let text = telegramText(m.text);
      const mediaPath = MEDIA_FIELDS.map((f) => m[f]).find((v): v is string => typeof v === 'string') ?? null;
      if (mediaPath) {
        kind = mediaKind(m);
        if (kind === 'unknown') report.unknown('telegram message.media_type', m.media_type, String(m.id));
      } else if (isObj(m.location_information)) {
        kind = 'location';
        const { latitude, longitude } = m.location_information;
        if (typeof latitude === 'number' && typeof longitude === 'number') text = [text, `📍 ${latitude.toFixed(6)}, ${longitude.toFixed(6)}`].filter(Boolean).join('\n');
      } else if (isObj(m.poll)) {
        kind = 'poll';
        text = cleanText(m.poll.question) ?? text;
      } else if (isObj(m.contact_information)) kind = 'contact';
      const id = writer.addMessage({
        ...base,
        sender,
        fromMe,
        kind,
        text: text === '' ? null : text,
        forwardedFrom: cleanName(m.forwarded_from),
        edited: m.edited !== undefined || m.edited_unixtime !== undefined,
      });
      report.counts.messages += 1;
      if (mediaPath) {
        // Telegram writes this sentence in place of a path when the file was not exported.
        const missing = mediaPath.startsWith('(File ');
        writer.addPendingMedia({ messageId: id, relPath: missing ? null : mediaPath, name: cleanText(m.file_name, 512) ?? (missing ? null : (mediaPath.split('/').pop() ?? null)), mime: cleanText(m.mime_type, 255), size: toCount(m.file_size) });
      }
      if (Array.isArray(m.reactions)) {
        for (const r of m.reactions) {
          if (!isObj(r)) continue;
          const emoji = typeof r.emoji === 'string' ? r.emoji : typeof r.document_id === 'string' ? '(custom emoji)' : null;
          if (!emoji) continue;
          const recent = Array.isArray(r.recent) ? r.recent.filter(isObj) : [];
          for (const who of recent) {
            writer.addReaction(id, { sender: cleanName(who.from), emoji, timestamp: typeof who.date === 'string' ? validMillis(Date.parse(`${who.date}Z`)) : null });
            report.counts.reactions += 1;
          }
          // Reactions beyond the "recent" list are known only by count.
          const rest = Math.min(Math.max(0, (toCount(r.count) ?? 0) - recent.length), 1000);
          for (let i = 0; i < rest; i++) {
            writer.addReaction(id, { sender: null, emoji, timestamp: null });
            report.counts.reactions += 1;
          }
        }
      }
    }
    for (const p of people) writer.addParticipant(chatId, { name: p });
  }
  report.counts.media += writer.pendingMediaCount;
  const res = await linkMedia(resolver, writer, linkOptions(opts));
  if (res.missing > 0) report.warn(`${res.missing} media files named by the export are not in the source (exported without media, or only result.json was given).`);
}
