import { fireEvent, render, screen } from '@testing-library/react';
import { describe, expect, test } from 'vitest';
import type { MessageInfo } from '../../src/app/contract.js';
import { ROW_HEIGHT, VirtualMessages } from '../src/components/VirtualMessages';
import { fakeApi } from './fake-api';

const TOTAL = 100_000;
const message = (i: number): MessageInfo => ({ id: i + 1, chatId: 7, sender: 'Ada', fromMe: false, timestamp: Date.UTC(2020, 0, 1) + i * 60_000, kind: 'text', text: `message ${i}`, media: null, edited: false, deleted: false, reactions: [] });

function chatOf100k() {
  return fakeApi({
    'catalog.messages': (req: unknown) => {
      const { offset, limit } = req as { offset: number; limit: number };
      const n = Math.max(0, Math.min(limit, TOTAL - offset));
      return { ok: true, value: { total: TOTAL, messages: Array.from({ length: n }, (_, k) => message(offset + k)) } };
    },
  });
}

/** The windows asked for so far, as [offset, limit]. */
const windows = (f: ReturnType<typeof fakeApi>) => f.calls.filter((c) => c.channel === 'catalog.messages').map((c) => [(c.request as { offset: number }).offset, (c.request as { limit: number }).limit]);

function scrollTo(el: HTMLElement, top: number) {
  el.scrollTop = top;
  fireEvent.scroll(el);
}

describe('message list of a 100,000-message chat', () => {
  test('opens with one window; scrolling asks only for the windows in view', async () => {
    const f = chatOf100k();
    render(<VirtualMessages api={f.api} catalogId="cat-aaaaaaaa" chatId={7} total={TOTAL} height={480} />);
    await screen.findByText('message 0');
    expect(windows(f)).toEqual([[0, 200]]);
    const list = screen.getByTestId('messages');
    expect(list.querySelectorAll('.msg').length).toBeLessThan(40);

    // Straight to the middle: the window there, and nothing in between.
    scrollTo(list, 50_000 * ROW_HEIGHT);
    await screen.findByText('message 50000');
    expect(windows(f).slice(1)).toEqual([[49_800, 200], [50_000, 200]]);

    // Small steps inside a window ask for nothing new.
    scrollTo(list, 50_050 * ROW_HEIGHT);
    await screen.findByText('message 50055');
    expect(windows(f)).toHaveLength(3);

    // The end of the chat.
    scrollTo(list, (TOTAL - 8) * ROW_HEIGHT);
    await screen.findByText(`message ${TOTAL - 1}`);
    expect(windows(f).slice(3)).toEqual([[99_800, 200]]);
    expect(list.querySelectorAll('.msg').length).toBeLessThan(40);
  });

  test('windows far from the view are dropped and asked for again when scrolled back to', async () => {
    const f = chatOf100k();
    render(<VirtualMessages api={f.api} catalogId="cat-aaaaaaaa" chatId={7} total={TOTAL} height={480} />);
    await screen.findByText('message 0');
    const list = screen.getByTestId('messages');
    for (let k = 1; k <= 30; k++) {
      scrollTo(list, k * 3_000 * ROW_HEIGHT);
      await screen.findByText(`message ${k * 3_000}`);
    }
    scrollTo(list, 0);
    await screen.findByText('message 0');
    const firstWindow = windows(f).filter(([o]) => o === 0);
    expect(firstWindow).toHaveLength(2);
  });
});
