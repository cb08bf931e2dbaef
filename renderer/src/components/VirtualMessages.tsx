import { useCallback, useEffect, useRef, useState, type JSX } from 'react';
import type { ChatsafeApi } from '../api';
import type { MessageInfo } from '../../../src/app/contract.js';

export const ROW_HEIGHT = 56;
const PAGE = 200;
const OVERSCAN = 10;

/**
 * A chat's messages, virtualized: only the rows in view (plus a few) exist in
 * the page, and they are fetched in pages of 200 as the list scrolls, so a
 * chat of 100,000 messages scrolls as smoothly as one of ten.
 */
export function VirtualMessages({ api, catalogId, chatId, total, scrollTo, height = 480, onPreview }: { api: ChatsafeApi; catalogId: string; chatId: number; total: number; scrollTo?: number | null; height?: number; onPreview?: (m: MessageInfo) => void }) {
  const [scrollTop, setScrollTop] = useState(0);
  const [, setVersion] = useState(0);
  const pages = useRef(new Map<number, MessageInfo[] | 'loading'>());
  const box = useRef<HTMLDivElement>(null);

  useEffect(() => {
    pages.current.clear();
    setVersion((v) => v + 1);
  }, [catalogId, chatId]);

  useEffect(() => {
    if (scrollTo === null || scrollTo === undefined || !box.current) return;
    box.current.scrollTop = Math.max(0, scrollTo * ROW_HEIGHT - height / 3);
    setScrollTop(box.current.scrollTop);
  }, [scrollTo, height]);

  const load = useCallback(
    (page: number) => {
      if (pages.current.has(page)) return;
      pages.current.set(page, 'loading');
      void api.call('catalog.messages', { catalogId, chatId, offset: page * PAGE, limit: PAGE }).then((r) => {
        if (r.ok) pages.current.set(page, r.value.messages);
        else pages.current.delete(page);
        setVersion((v) => v + 1);
      });
    },
    [api, catalogId, chatId],
  );

  const first = Math.max(0, Math.floor(scrollTop / ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(total - 1, Math.ceil((scrollTop + height) / ROW_HEIGHT) + OVERSCAN);
  const rows: JSX.Element[] = [];
  for (let i = first; i <= last; i++) {
    const page = Math.floor(i / PAGE);
    const data = pages.current.get(page);
    if (data === undefined) load(page);
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
