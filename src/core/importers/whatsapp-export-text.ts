/**
 * WhatsApp's "Export chat" text. The installed `whatsapp-chat-parser` was
 * evaluated first and not used (docs/IMPORTERS.md says why: it has no notion
 * of iOS system lines, splits system lines that contain ": " into a made-up
 * author, returns local-time Date objects that depend on the machine's time
 * zone, and only links attachments whose names are ASCII word characters).
 *
 * Layouts handled:
 *   Android  `12/03/2021, 14:05 - Name: text`, `3/12/21, 2:05 PM - Name: text`
 *   iOS      `[12.03.21, 14:05:09] Name: text`
 * with day-first or month-first dates decided across the whole file, 2- and
 * 4-digit years, year-first dates, 12- and 24-hour clocks (`a. m.`, `p. m.`,
 * dotted times), the U+200E / U+200F / U+202F / no-break-space characters,
 * multi-line messages and system lines (kept without an author).
 * The text has no time zone: times are the phone's wall clock, stored as if
 * they were UTC (documented in IMPORTERS.md).
 */
import type { MessageKind } from '../catalog/types.js';

export interface ParsedLine {
  /** 1-based line number where the message starts (for the report). */
  readonly line: number;
  readonly timestamp: number;
  readonly author: string | null;
  readonly text: string;
  readonly kind: MessageKind;
  /** File name of an attachment the text names, when there is one. */
  readonly attachment: string | null;
  readonly edited: boolean;
}

export interface ParsedExport {
  readonly messages: ParsedLine[];
  readonly layout: 'android' | 'ios';
  readonly dateOrder: 'day-first' | 'month-first' | 'year-first';
  /** Lines before the first dated line (not part of any message). */
  readonly strayLines: number;
  /** Lines whose date or time could not be made into a real time. */
  readonly badDates: number[];
}

// Invisible marks WhatsApp scatters around generated text.
const MARKS = /[\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g;
// U+202F (narrow no-break space) and U+00A0 stand where a space would be.
const SPACES = /[\u00a0\u202f\u2007]/g;

const DATE = String.raw`(\d{1,4})[./-] ?(\d{1,2})[./-] ?(\d{1,4})\.?`;
const TIME = String.raw`(\d{1,2})[:.](\d{2})(?:[:.](\d{2}))?(?: ?([ap])\.? ?m\.?)?`;
const IOS_LINE = new RegExp(String.raw`^\[${DATE},? ${TIME}\] ([^]*)$`, 'i');
const ANDROID_LINE = new RegExp(String.raw`^${DATE},? ${TIME} [-–] ([^]*)$`, 'i');

/** What the file names look like: `_chat.txt`, `WhatsApp Chat with NAME.txt` and translations (`WhatsApp-Chat mit`, `Chat de WhatsApp con`). */
export function isExportTextName(name: string): boolean {
  return name === '_chat.txt' || (/whatsapp/i.test(name) && name.toLowerCase().endsWith('.txt'));
}

function normalizeLine(raw: string): string {
  return raw.replace(SPACES, ' ').replace(/^[\u200e\u200f\ufeff]+/, '');
}

/** True when the first non-empty lines of a text start like an export. */
export function looksLikeExportText(head: string): boolean {
  const lines = head.split(/\r\n|\r|\n/).filter((l) => l.trim() !== '').slice(0, 5);
  return lines.length > 0 && lines.some((l) => IOS_LINE.test(normalizeLine(l)) || ANDROID_LINE.test(normalizeLine(l)));
}

interface RawEntry {
  line: number;
  d: [number, number, number];
  dRaw: [string, string, string];
  h: number;
  min: number;
  s: number;
  ampm: string | null;
  body: string;
}

/** Phrases of generated lines that are not from a person, in the languages exports most often come in. */
const SYSTEM_PHRASES = [
  /end-to-end encrypted|cifrados de extremo a extremo|Ende-zu-Ende-verschlüsselt|chiffrés de bout en bout|crittografia end-to-end|criptografia de ponta a ponta/i,
  / (created group|added|removed|left|joined using|changed the subject|changed this group|changed the group|changed their phone number|changed to|security code)/i,
  /^(You|Du|Tú|Vous) /,
  / (hat die Gruppe|hat .* hinzugefügt|ist beigetreten|hat die Gruppe verlassen|creó el grupo|añadió|salió|a créé le groupe|a ajouté|est parti)/i,
  /^Messages to this group are now secured|^Disappearing messages|^Missed (voice|video) call/i,
];

const DELETED = /^(This message was deleted|You deleted this message|Diese Nachricht wurde gelöscht|Du hast diese Nachricht gelöscht|Se eliminó este mensaje|Eliminaste este mensaje|Ce message a été supprimé|Vous avez supprimé ce message)\.?$/;
const EDITED = /\s*<(This message was edited|Diese Nachricht wurde bearbeitet|Se editó este mensaje|Ce message a été modifié)>$/;
const OMITTED = /^<?(Media omitted|Medien ausgeschlossen|Multimedia omitido|Médias omis|Media omessi|Mídia oculta|image omitted|video omitted|audio omitted|sticker omitted|GIF omitted|document omitted|Contact card omitted|Bild weggelassen|Video weggelassen|Audio weggelassen|imagen omitida|audio omitido|video omitido)>?$/i;
const ATTACHED_IOS = /^<(?:attached|Anhang|adjunto|pièce jointe|allegato|anexado): ([^<>]+)>$/i;
const ATTACHED_ANDROID = /^(.+\.[A-Za-z0-9]{1,5}) \((file attached|Datei angehängt|archivo adjunto|fichier joint|file allegato|arquivo anexado|bestand bijgevoegd|plik załączony|dosya ekli|файл прикреплен)\)$/i;

export function kindFromFileName(name: string): MessageKind {
  const ext = name.toLowerCase().split('.').pop() ?? '';
  if (/STICKER/i.test(name) || ext === 'webp') return 'sticker';
  if (['jpg', 'jpeg', 'png', 'heic', 'gif'].includes(ext)) return /GIF/.test(name) ? 'gif' : 'image';
  if (['mp4', 'mov', '3gp'].includes(ext)) return 'video';
  if (ext === 'opus') return 'voice';
  if (['m4a', 'mp3', 'aac', 'amr', 'ogg'].includes(ext)) return 'audio';
  if (ext === 'vcf') return 'contact';
  return 'document';
}

function omittedKind(text: string): MessageKind {
  const t = text.toLowerCase();
  if (/image|bild|imagen/.test(t)) return 'image';
  if (/video/.test(t)) return 'video';
  if (/audio/.test(t)) return 'audio';
  if (/sticker/.test(t)) return 'sticker';
  if (/gif/.test(t)) return 'gif';
  if (/contact/.test(t)) return 'contact';
  return 'document';
}

export function parseExportText(content: string): ParsedExport {
  const lines = content.replace(/^\ufeff/, '').split(/\r\n|\r|\n/);
  const entries: RawEntry[] = [];
  let layout: 'android' | 'ios' | null = null;
  let stray = 0;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    const norm = normalizeLine(raw);
    let m: RegExpExecArray | null = null;
    if (layout !== 'android') m = IOS_LINE.exec(norm);
    if (m) layout = 'ios';
    else if (layout !== 'ios') {
      m = ANDROID_LINE.exec(norm);
      if (m) layout = 'android';
    }
    if (m) {
      entries.push({
        line: i + 1,
        dRaw: [m[1]!, m[2]!, m[3]!],
        d: [Number(m[1]), Number(m[2]), Number(m[3])],
        h: Number(m[4]),
        min: Number(m[5]),
        s: m[6] ? Number(m[6]) : 0,
        ampm: m[7] ? m[7].toLowerCase() : null,
        body: m[8]!,
      });
    } else if (entries.length > 0) entries[entries.length - 1]!.body += `\n${raw.replace(SPACES, ' ')}`;
    else if (raw.trim() !== '') stray += 1;
  }
  const dateOrder = decideDateOrder(entries);
  const authorCounts = new Map<string, number>();
  for (const e of entries) {
    const a = splitAuthor(e.body);
    if (a) authorCounts.set(a.author, (authorCounts.get(a.author) ?? 0) + 1);
  }
  const messages: ParsedLine[] = [];
  const badDates: number[] = [];
  for (const e of entries) {
    const ts = toMillis(e, dateOrder);
    if (ts === null) badDates.push(e.line);
    messages.push(toMessage(e, ts ?? 0, authorCounts));
  }
  return { messages, layout: layout ?? 'android', dateOrder, strayLines: stray, badDates };
}

function splitAuthor(body: string): { author: string; text: string } | null {
  const idx = body.indexOf(': ');
  if (idx <= 0) return null;
  const author = body.slice(0, idx).replace(MARKS, '').trim();
  if (author === '' || author.length > 80 || author.includes('\n')) return null;
  return { author, text: body.slice(idx + 2) };
}

function toMessage(e: RawEntry, timestamp: number, authorCounts: Map<string, number>): ParsedLine {
  const split = splitAuthor(e.body);
  // A ": " inside a generated line ("X changed the subject to "a: b"") does not make X an author:
  // a real author name has no quotes and usually appears more than once.
  const plausibleAuthor = split && !/["“”«»]/.test(split.author) && !(authorCounts.get(split.author) === 1 && SYSTEM_PHRASES.some((p) => p.test(e.body)));
  if (!split || !plausibleAuthor) {
    // iOS puts the chat's name before generated text ("Trip: \u200eMessages and calls are…"); the name is not part of the event.
    const body = split && /^[\u200e\u200f]/.test(split.text) ? split.text : e.body;
    return { line: e.line, timestamp, author: null, text: body.replace(MARKS, '').trim(), kind: 'system', attachment: null, edited: false };
  }
  const generated = /^[\u200e\u200f]/.test(split.text);
  let text = split.text.replace(MARKS, '');
  let edited = false;
  if (EDITED.test(text)) {
    edited = true;
    text = text.replace(EDITED, '');
  }
  const firstLine = text.split('\n')[0]!.trim();
  const rest = text.split('\n').slice(1).join('\n').trim();
  const ios = ATTACHED_IOS.exec(firstLine);
  const android = ATTACHED_ANDROID.exec(firstLine);
  const file = ios?.[1] ?? android?.[1] ?? null;
  if (file) return { line: e.line, timestamp, author: split.author, text: rest, kind: kindFromFileName(file), attachment: file.trim(), edited };
  if (OMITTED.test(firstLine)) return { line: e.line, timestamp, author: split.author, text: rest, kind: omittedKind(firstLine), attachment: null, edited };
  if (DELETED.test(text.trim())) return { line: e.line, timestamp, author: split.author, text: '', kind: 'deleted', attachment: null, edited };
  // iOS marks text WhatsApp generated (encryption notice, "X added Y") with U+200E after the author.
  if (generated) return { line: e.line, timestamp, author: null, text: text.trim(), kind: 'system', attachment: null, edited };
  return { line: e.line, timestamp, author: split.author, text, kind: 'text', attachment: null, edited };
}

/**
 * Day-first or month-first, decided once for the whole file: a first field
 * above 12 settles day-first, a second above 12 month-first; otherwise the
 * order under which the dates run forward in time more often wins.
 */
function decideDateOrder(entries: RawEntry[]): ParsedExport['dateOrder'] {
  if (entries.some((e) => e.dRaw[0].length === 4)) return 'year-first';
  if (entries.some((e) => e.d[0] > 12)) return 'day-first';
  if (entries.some((e) => e.d[1] > 12)) return 'month-first';
  let dayFirstForward = 0;
  let monthFirstForward = 0;
  for (let i = 1; i < entries.length; i++) {
    const a = entries[i - 1]!.d;
    const b = entries[i]!.d;
    const df = (x: number[]) => x[2]! * 10000 + x[1]! * 100 + x[0]!;
    const mf = (x: number[]) => x[2]! * 10000 + x[0]! * 100 + x[1]!;
    if (df(b) > df(a)) dayFirstForward += 1;
    else if (df(b) < df(a)) dayFirstForward -= 1;
    if (mf(b) > mf(a)) monthFirstForward += 1;
    else if (mf(b) < mf(a)) monthFirstForward -= 1;
  }
  return monthFirstForward > dayFirstForward ? 'month-first' : 'day-first';
}

function toMillis(e: RawEntry, order: ParsedExport['dateOrder']): number | null {
  const [yRaw, mo, d] = order === 'year-first' ? [e.d[0], e.d[1], e.d[2]] : order === 'day-first' ? [e.d[2], e.d[1], e.d[0]] : [e.d[2], e.d[0], e.d[1]];
  const y = yRaw < 100 ? yRaw + 2000 : yRaw;
  let h = e.h;
  if (e.ampm) {
    if (h < 1 || h > 12) return null;
    if (e.ampm === 'a' && h === 12) h = 0;
    if (e.ampm === 'p' && h !== 12) h += 12;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || e.min > 59 || e.s > 59) return null;
  const ms = Date.UTC(y, mo - 1, d, h, e.min, e.s);
  // Date.UTC rolls 31 April over to 1 May; a date that does not exist is a bad date.
  if (new Date(ms).getUTCDate() !== d) return null;
  return ms;
}
