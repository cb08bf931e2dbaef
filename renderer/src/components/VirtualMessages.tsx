import { useEffect, useRef, useState, type JSX } from 'react';
import type { ChatsafeApi } from '../api';
import type { MessageInfo } from '../../../src/app/contract.js';

export const ROW_HEIGHT = 56;
const PAGE = 200;
const OVERSCAN = 10;
/** Windows kept around the view; farther ones are dropped and asked for again if scrolled back to. */
const KEEP_PAGES = 6;

/**
 * A chat's messages, virtualized: only the rows in view (plus a few) exist in
 * the page, and they are fetched by position in windows of 200 (offset and
 * limit) as the list scrolls; only the windows in view are asked for, and
 * those far away are dropped, so a chat of 100,000 messages opens with one
 * request and scrolls as smoothly as one of ten.
 */
export function VirtualMessages({ api, catalogId, chatId, total, scrollTo, height = 480, onPreview }: { api: ChatsafeApi; catalogId: string; chatId: number; total: number; scrollTo?: number | null; height?: number; onPreview?: (m: MessageInfo) => void }) {
  const [scrollTop, setScrollTop] = useState(0);
  const [, setVersion] = useState(0);
  const chat = `${catalogId}/${chatId}`;
  // Windows of the chat on screen, by page number; another chat starts afresh (answers for the old one are dropped).
  const pages = useRef({ chat, map: new Map<number, MessageInfo[] | 'loading'>() });
  if (pages.current.chat !== chat) pages.current = { chat, map: new Map() };
  const box = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (scrollTo === null || scrollTo === undefined || !box.current) return;
    box.current.scrollTop = Math.max(0, scrollTo * ROW_HEIGHT - height / 3);
    setScrollTop(box.current.scrollTop);
  }, [scrollTo, height]);

  const first = Math.max(0, Math.floor(scrollTop / ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(total - 1, Math.ceil((scrollTop + height) / ROW_HEIGHT) + OVERSCAN);
  const firstPage = Math.floor(first / PAGE);
  const lastPage = Math.floor(Math.max(first, last) / PAGE);

  // Ask for the windows in view that are not here yet, and forget those far away (memory stays bounded however far one scrolls).
  useEffect(() => {
    const { map } = pages.current;
    const mine = pages.current;
    for (let page = firstPage; page <= lastPage && total > 0; page++) {
      if (map.has(page)) continue;
      map.set(page, 'loading');
      void api.call('catalog.messages', { catalogId, chatId, offset: page * PAGE, limit: PAGE }).then((r) => {
        if (pages.current !== mine) return;
        if (r.ok) map.set(page, r.value.messages);
        else map.delete(page);
        setVersion((v) => v + 1);
      });
    }
    if (map.size > KEEP_PAGES) for (const page of [...map.keys()]) if (page < firstPage - 1 || page > lastPage + 1) map.delete(page);
  }, [api, catalogId, chatId, total, firstPage, lastPage]);

  const rows: JSX.Element[] = [];
  for (let i = first; i <= last; i++) {
    const page = Math.floor(i / PAGE);
    const data = pages.current.map.get(page);
    const m = Array.isArray(data) ? data[i - page * PAGE] : undefined;
    rows.push(
      <div key={i} role="listitem" className={`msg${m?.fromMe ? ' me' : ''}${scrollTo === i ? ' highlight' : ''}`} style={{ top: i * ROW_HEIGHT, height: ROW_HEIGHT }} aria-setsize={total} aria-posinset={i + 1}>
        {m ? (
          <>
            <span className="msg-meta">
              <span className="who">{m.fromMe ? 'You' : (m.sender ?? 'System')}</span> <time>{new Date(m.timestamp).toLocaleString()}</time>
            </span>
            <span className="msg-text">
              {m.media?.available && onPreview && (
                <button type="button" className="preview" onClick={() => onPreview(m)}>
                  Preview
                </button>
              )}
              {m.deleted ? 'This message was deleted' : (m.text ?? (m.media ? `📎 ${m.media.name ?? m.kind}` : `[${m.kind}]`))}
            </span>
          </>
        ) : (
          <span className="msg-loading">…</span>
        )}
      </div>,
    );
  }
  return (
    <div className="messages" ref={box} style={{ height }} onScroll={(e) => setScrollTop(e.currentTarget.scrollTop)} tabIndex={0} role="list" aria-label={`Messages (${total})`} data-testid="messages">
      <div style={{ height: total * ROW_HEIGHT, position: 'relative' }}>{rows}</div>
    </div>
  );
}
