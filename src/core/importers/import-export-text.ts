/** "Export chat" text (alone, in its folder, or in its zip) into the catalog. */
import { readFileSync, statSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { createHash } from 'node:crypto';
import { ChatsafeError, throwIfCancelled } from '../errors.js';
import type { CatalogWriter } from '../catalog/writer.js';
import { linkMedia, linkOptions, mimeFromName, RecentMap, rootResolver } from './media.js';
import type { ReportCollector } from './report.js';
import type { LocatedSource } from './locate.js';
import type { ImportOptions } from './types.js';
import { readingCheckpoint } from './progress.js';
import { parseExportText } from './whatsapp-export-text.js';
import { pickChatEntry, ZipReader } from './zip-reader.js';

/** Largest chat text read into memory (a chat of several million lines). */
const MAX_TEXT_BYTES = 512 * 1024 * 1024;

/** "WhatsApp Chat with Anna.txt" / "WhatsApp Chat - Anna.zip" -> "Anna". */
export function chatNameFromFileName(name: string): string | null {
  const stem = basename(name, extname(name));
  const m = /^WhatsApp[- ](?:Chat|Chat mit|Chat con|Chat avec|Chat met|Chat com)?\s*(?:with|mit|con|avec|met|com|-)?\s+(.+)$/i.exec(stem);
  return m?.[1]?.trim() || null;
}

function decode(buf: Buffer, file: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(buf);
  } catch {
    throw new ChatsafeError('unsupported', `${file} is not UTF-8 text.`, 'Export the chat again from WhatsApp; exports are always UTF-8.');
  }
}

/** The chat text of an export source, decoded; `inZip` names the entry when it came from a zip. */
function readChatText(src: LocatedSource): { text: string; inZip: string | null; chatName: string | null } {
  const main = src.mainFile!;
  if (extname(main).toLowerCase() === '.zip') {
    const zip = new ZipReader(main);
    try {
      const entry = pickChatEntry(zip);
      if (!entry) throw new ChatsafeError('unsupported', `${basename(main)} holds no WhatsApp chat text.`, 'Give the zip WhatsApp made with "Export chat".');
      return { text: decode(zip.extract(entry, MAX_TEXT_BYTES), `${basename(main)}/${entry.name}`), inZip: entry.name, chatName: chatNameFromFileName(entry.name) ?? chatNameFromFileName(main) };
    } finally {
      zip.close();
    }
  }
  if (statSync(main).size > MAX_TEXT_BYTES) throw new ChatsafeError('unsupported', `${basename(main)} is larger than ${MAX_TEXT_BYTES} bytes.`, 'Back it up as a plain file.');
  return { text: decode(readFileSync(main), basename(main)), inZip: null, chatName: chatNameFromFileName(main) ?? (src.isDir ? basename(src.path) : null) };
}

/** For detection: the number of messages and attachments the text names. */
export function countExportText(src: LocatedSource): { messages: number; attachments: number; layout: string; dateOrder: string; inZip: string | null } {
  const { text, inZip } = readChatText(src);
  const parsed = parseExportText(text);
  return { messages: parsed.messages.length, attachments: parsed.messages.filter((m) => m.attachment !== null).length, layout: parsed.layout, dateOrder: parsed.dateOrder, inZip };
}

const RECENT_ENTRIES = 256;

export async function importExportText(src: LocatedSource, writer: CatalogWriter, report: ReportCollector, opts: ImportOptions): Promise<void> {
  const main = src.mainFile!;
  const { text, chatName } = readChatText(src);
  const zip: ZipReader | null = extname(main).toLowerCase() === '.zip' ? new ZipReader(main) : null;
  try {
    const parsed = parseExportText(text);
    if (parsed.messages.length === 0) throw new ChatsafeError('unsupported', `${basename(main)} has no lines in WhatsApp's export layout.`, 'Give the .txt or .zip WhatsApp made with "Export chat".');
    writer.setMeta('source_schema', `whatsapp-export-text-${parsed.layout}-${parsed.dateOrder}`);
    if (parsed.strayLines > 0) report.unknown('export text', 'lines before the first message', 'line 1', parsed.strayLines);
    for (const line of parsed.badDates) report.unknown('export text', 'date or time that does not exist', `line ${line}`);
    const authors = [...new Set(parsed.messages.map((m) => m.author).filter((a): a is string => a !== null))];
    const chatId = writer.addChat({ kind: authors.length > 2 ? 'group' : 'direct', name: chatName ?? authors.join(', ') });
    report.counts.chats += 1;
    for (const a of authors) writer.addParticipant(chatId, { name: a });
    let n = 0;
    for (const m of parsed.messages) {
      await readingCheckpoint(++n, parsed.messages.length, opts);
      const id = writer.addMessage({ chatId, sender: m.author, fromMe: false, timestamp: m.timestamp, kind: m.kind, text: m.text === '' ? null : m.text, edited: m.edited, deleted: m.kind === 'deleted' });
      report.counts.messages += 1;
      if (m.attachment) writer.addPendingMedia({ messageId: id, relPath: m.attachment, name: m.attachment, mime: mimeFromName(m.attachment), size: null });
      // "<Media omitted>": the message had media, but the export left the file out.
      else if (['image', 'video', 'audio', 'voice', 'sticker', 'gif', 'document'].includes(m.kind)) writer.addPendingMedia({ messageId: id, relPath: null, name: null, mime: null, size: null });
    }
    report.counts.media += writer.pendingMediaCount;
    if (zip) {
      // Attachments inside the zip: the snapshot keeps the zip itself, so their path is "ZIP/ENTRY" (readZipMedia opens it).
      const z = zip;
      const zipName = basename(main);
      let missing = 0;
      // An entry named on many lines is inflated and hashed once while it is recent (a few KB of zip
      // could name one 16 MiB entry on every line, 20 ms a line); null: it could not be read.
      const recent = new RecentMap<string, string | null>(RECENT_ENTRIES);
      for (const p of writer.pendingMedia()) {
        throwIfCancelled(opts.signal);
        const entry = p.relPath ? z.find(p.relPath) : undefined;
        let sha: string | null = null;
        if (entry) {
          const seen = recent.get(entry.name);
          if (seen !== undefined) sha = seen;
          else {
            try {
              sha = createHash('sha256').update(z.extract(entry)).digest('hex');
            } catch {
              report.warn(`An attachment in ${zipName} could not be read and is listed by name only.`);
            }
            recent.set(entry.name, sha);
          }
        } else missing += 1;
        writer.addMedia(p.messageId, { path: entry && sha ? `${zipName}/${entry.name}` : null, name: p.name, mime: p.mime, size: entry ? entry.size : null, sha256: sha });
      }
      if (missing > 0) report.warn(`${missing} attachments are not in the zip (exported "without media", or omitted by WhatsApp).`);
    } else {
      const resolver = src.isDir && src.mediaDir ? rootResolver({ dir: src.mediaDir, snapshotPrefix: basename(src.path) }) : null;
      const res = await linkMedia(resolver, writer, linkOptions(opts));
      if (res.missing > 0) report.warn(`${res.missing} attachments are not beside the chat text (give the folder or the zip to include them).`);
    }
  } finally {
    zip?.close();
  }
}

/**
 * Reads one attachment out of an export zip: the catalog names it "ZIP/ENTRY";
 * `zip` is the zip's path on disk or its bytes (as read from the snapshot).
 */
export function readZipMedia(zip: string | Buffer, entryName: string): Buffer | null {
  const z = typeof zip === 'string' ? new ZipReader(zip) : new ZipReader('export zip', zip);
  try {
    const e = z.find(entryName);
    return e ? z.extract(e) : null;
  } finally {
    z.close();
  }
}
