/**
 * The catalog as static HTML: an index page and one self-contained page per
 * chat, readable offline, with the media copied into `media/` beside them.
 * Everything from the catalog is escaped; the pages carry a CSP that allows
 * no scripts and no network. The output is built in a temporary folder next
 * to `outDir` and renamed into place when complete.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ChatsafeError, throwIfCancelled } from '../errors.js';
import type { Catalog } from './catalog.js';
import type { CatalogMessage, ChatSummary } from './types.js';

export interface ExportHtmlOptions {
  readonly signal?: AbortSignal;
  /** Only these chats (default: all). */
  readonly chatIds?: readonly number[];
  readonly onProgress?: (p: { chatsDone: number; chatsTotal: number }) => void;
}

const CSP = "default-src 'none'; img-src 'self' data:; media-src 'self'; style-src 'unsafe-inline'";

const STYLE = `body{font:15px/1.4 system-ui,sans-serif;margin:0;background:#efeae2;color:#111}
header{position:sticky;top:0;background:#075e54;color:#fff;padding:10px 16px}header a{color:#cfe}
main{max-width:860px;margin:0 auto;padding:12px}.m{background:#fff;border-radius:8px;padding:6px 10px;margin:6px 0;max-width:80%;white-space:pre-wrap;overflow-wrap:anywhere}
.me{background:#d9fdd3;margin-left:auto}.sys{background:#fff5c4;margin:8px auto;text-align:center;font-size:13px}.s{font-weight:600;color:#075e54;font-size:13px}
.t{color:#667;font-size:11px;text-align:right}.q{border-left:3px solid #06cf9c;padding-left:6px;color:#556;font-size:13px}.r{font-size:12px}
img,video{max-width:100%;border-radius:6px}ul{list-style:none;padding:0}li{background:#fff;margin:4px 0;padding:8px 12px;border-radius:6px}`;

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function page(title: string, body: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="${CSP}"><meta name="referrer" content="no-referrer"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body>${body}</body></html>\n`;
}

function time(ms: number): string {
  const d = new Date(safeId(ms));
  if (Number.isNaN(d.getTime())) throw damagedCatalog();
  return d.toISOString().replace('T', ' ').slice(0, 19);
}

const EXT_BY_MIME: Record<string, string> = { 'image/jpeg': 'jpg', 'image/png': 'png', 'image/gif': 'gif', 'image/webp': 'webp', 'video/mp4': 'mp4', 'audio/ogg': 'ogg', 'audio/mp4': 'm4a', 'audio/mpeg': 'mp3', 'application/pdf': 'pdf' };

/**
 * A media file's name in the export, made only of parts that cannot leave the media folder: a
 * catalog comes from a backup, which someone else may have made, and its digest is text that
 * could hold `../`.
 */
function mediaFileName(m: CatalogMessage): string {
  const fromName = m.media?.name?.split('.').pop()?.toLowerCase() ?? '';
  const ext = (m.media?.mime && EXT_BY_MIME[m.media.mime]) || (/^[a-z0-9]{1,5}$/.test(fromName) ? fromName : 'bin');
  const digest = m.media?.sha256;
  return `${digest && /^[0-9a-f]{64}$/.test(digest) ? digest : `m${safeId(m.id)}`}.${ext}`;
}

/** A catalog's number as it goes into a file name, a link or the page: an integer, or the catalog is damaged. */
function safeId(id: number): number {
  if (!Number.isSafeInteger(id)) throw damagedCatalog();
  return id;
}

function damagedCatalog(): ChatsafeError {
  return new ChatsafeError('integrity', 'The catalog holds text where a number belongs (an id, a count or a time).', 'The catalog is damaged or was not made by Chatsafe; run `chatsafe check --read-data` on the repository.');
}

function mediaHtml(m: CatalogMessage, file: string | null): string {
  const label = escapeHtml(m.media?.name ?? 'attachment');
  if (!file) return `<div class="q">📎 ${label} (not in the backup)</div>`;
  const href = `media/${encodeURIComponent(file)}`;
  const mime = m.media?.mime ?? '';
  if (mime.startsWith('image/') || ['image', 'sticker'].includes(m.kind)) return `<a href="${href}"><img src="${href}" alt="${label}" loading="lazy"></a>`;
  if (mime.startsWith('video/') || ['video', 'gif'].includes(m.kind)) return `<video controls preload="none" src="${href}"></video>`;
  if (mime.startsWith('audio/') || ['audio', 'voice'].includes(m.kind)) return `<audio controls preload="none" src="${href}"></audio>`;
  return `<a href="${href}" download="${label}">📎 ${label}</a>`;
}

export async function exportHtml(
  catalog: Catalog,
  outDir: string,
  readMedia: (pathInSnapshot: string) => Promise<Buffer | null>,
  opts: ExportHtmlOptions = {},
): Promise<{ chats: number; files: number }> {
  try {
    if ((await readdir(outDir)).length > 0) throw new ChatsafeError('conflict', `${outDir} is not empty.`, 'Choose a new or empty folder for the export.');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const temp = join(dirname(outDir), `.${basename(outDir)}.${randomBytes(6).toString('hex')}.partial`);
  await mkdir(join(temp, 'media'), { recursive: true });
  let files = 0;
  try {
    let chats = catalog.listChats();
    if (opts.chatIds) chats = chats.filter((c) => opts.chatIds!.includes(c.id));
    const written = new Set<string>();
    for (const [i, chat] of chats.entries()) {
      throwIfCancelled(opts.signal);
      files += await writeChat(catalog, chat, temp, readMedia, written, opts.signal);
      opts.onProgress?.({ chatsDone: i + 1, chatsTotal: chats.length });
    }
    const list = chats
      .map((c) => `<li><a href="chat-${safeId(c.id)}.html">${escapeHtml(c.name)}</a> <span class="t">${safeId(c.messageCount)} messages${c.lastMessageAt ? `, last ${time(c.lastMessageAt)} UTC` : ''}</span></li>`)
      .join('');
    await writeFile(join(temp, 'index.html'), page('Chats', `<header>Chats</header><main><ul>${list}</ul></main>`));
    files += 1;
    await rmdir(outDir).catch(() => undefined);
    await rename(temp, outDir);
    return { chats: chats.length, files };
  } catch (e) {
    await rm(temp, { recursive: true, force: true });
    throw e;
  }
}

async function writeChat(catalog: Catalog, chat: ChatSummary, dir: string, readMedia: (p: string) => Promise<Buffer | null>, written: Set<string>, signal?: AbortSignal): Promise<number> {
  const parts: string[] = [];
  let files = 1;
  const byId = new Map<number, string>();
  let cursor: { timestamp: number; id: number } | null = null;
  while (true) {
    throwIfCancelled(signal);
    const batch = catalog.messagesAfter(chat.id, cursor, 1000);
    if (batch.length === 0) break;
    for (const m of batch) {
      const text = m.text ?? '';
      byId.set(m.id, text.slice(0, 120));
      let mediaPart = '';
      if (m.media) {
        let file: string | null = null;
        if (m.media.path) {
          file = mediaFileName(m);
          if (!written.has(file)) {
            const data = await readMedia(m.media.path);
            if (data) {
              await writeFile(join(dir, 'media', file), data);
              written.add(file);
              files += 1;
            } else file = null;
          }
        }
        mediaPart = mediaHtml(m, file);
      }
      if (m.kind === 'system') {
        parts.push(`<div class="m sys" id="m${safeId(m.id)}">${escapeHtml(text)} <span class="t">${time(m.timestamp)}</span></div>`);
        continue;
      }
      const quote = m.replyTo !== null ? `<a class="q" href="#m${safeId(m.replyTo)}">${escapeHtml(byId.get(m.replyTo) ?? 'earlier message')}</a>` : '';
      const fwd = m.forwardedFrom ? `<div class="q">Forwarded${m.forwardedFrom !== 'forwarded' ? ` from ${escapeHtml(m.forwardedFrom)}` : ''}</div>` : '';
      const body = m.deleted ? '<i>This message was deleted</i>' : escapeHtml(text);
      const reactions = m.reactions.length > 0 ? `<div class="r">${m.reactions.map((r) => escapeHtml(r.emoji)).join(' ')}</div>` : '';
      parts.push(
        `<div class="m${m.fromMe ? ' me' : ''}" id="m${safeId(m.id)}"><div class="s">${escapeHtml(m.sender ?? '')}</div>${fwd}${quote}${mediaPart}${body ? `<div>${body}</div>` : ''}${reactions}<div class="t">${time(m.timestamp)} UTC${m.edited ? ' · edited' : ''}</div></div>`,
      );
    }
    const last: CatalogMessage = batch[batch.length - 1]!;
    cursor = { timestamp: last.timestamp, id: last.id };
  }
  await writeFile(join(dir, `chat-${safeId(chat.id)}.html`), page(chat.name, `<header><a href="index.html">Chats</a> › ${escapeHtml(chat.name)}</header><main>${parts.join('\n')}</main>`));
  return files;
}
