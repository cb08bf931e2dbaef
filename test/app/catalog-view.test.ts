import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CatalogView } from '../../src/app/catalog-view.js';
import { openCatalog } from '../../src/core/catalog/catalog.js';
import { CatalogWriter } from '../../src/core/catalog/writer.js';

const COUNT = 100_000;
const START = Date.UTC(2020, 0, 1);

/**
 * One chat of 100,000 messages, written newest-first and with three messages
 * per timestamp (so ids do not follow time order and the paging key must be
 * (timestamp, id)), plus a small chat interleaved with it.
 */
function writeCatalog(path: string): { big: number; small: number } {
  const w = new CatalogWriter(path);
  const big = w.addChat({ kind: 'group', name: 'Big Group' });
  const small = w.addChat({ kind: 'direct', name: 'Ada' });
  for (let i = COUNT - 1; i >= 0; i--) {
    w.addMessage({ chatId: big, sender: i % 2 ? 'Ada' : 'Ben', fromMe: false, timestamp: START + Math.floor(i / 3) * 60_000, kind: 'text', text: `message ${i}` });
    if (i % 10_000 === 0) w.addMessage({ chatId: small, sender: 'Ada', fromMe: false, timestamp: START + i * 60_000, kind: 'text', text: `small ${i}` });
  }
  w.finish();
  return { big, small };
}

describe('catalog view: windows by position in a chat of 100,000 messages', () => {
  let dir: string;
  let view: CatalogView;
  let chats: { big: number; small: number };
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'chatsafe-catalog-view-'));
    const path = join(dir, 'catalog.sqlite');
    chats = writeCatalog(path);
    view = await CatalogView.hold(async (use) => {
      const catalog = openCatalog(path);
      try {
        await use(catalog, async () => null);
      } finally {
        catalog.close();
      }
    });
  });
  after(async () => {
    await view?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const texts = (offset: number, limit: number) => view.window(chats.big, offset, limit).messages.map((m) => m.text);
  const expected = (from: number, n: number) => Array.from({ length: n }, (_, k) => `message ${from + k}`);

  test('any window holds the messages at those positions, in time order', () => {
    // Within one timestamp the order is by id, and ids were given newest-first: positions 3k..3k+2 hold messages 3k+2, 3k+1, 3k.
    const order = (p: number) => 3 * Math.floor(p / 3) + (2 - (p % 3));
    const want = (from: number, n: number) => Array.from({ length: n }, (_, k) => `message ${order(from + k)}`);
    assert.equal(view.window(chats.big, 0, 200).total, COUNT);
    assert.deepEqual(texts(0, 200), want(0, 200));
    assert.deepEqual(texts(50_000, 7), want(50_000, 7));
    assert.deepEqual(texts(50_001, 5), want(50_001, 5), 'a window may start inside a run of equal timestamps');
    const last = texts(COUNT - 100, 200);
    assert.equal(last.length, 100, 'the last window is short');
    assert.deepEqual(last.slice(0, 99), want(COUNT - 100, 99));
    assert.equal(last[99], `message ${COUNT - 1}`, 'alone in its minute');
    assert.deepEqual(texts(COUNT, 10), []);
    assert.notDeepEqual(expected(0, 3), want(0, 3), 'the id order really differs from the time order');
  });

  test('windows of adjacent positions tile the chat without gaps or repeats', () => {
    const seen = new Set<string>();
    for (let offset = 40_000; offset < 40_000 + 2_000; offset += 200) for (const t of texts(offset, 200)) seen.add(t!);
    assert.equal(seen.size, 2_000);
  });

  test('position of a message is its offset; windows stay within their chat', () => {
    for (const p of [0, 1, 2, 3, 76_543, COUNT - 1]) {
      const m = view.window(chats.big, p, 1).messages[0]!;
      assert.deepEqual(view.position(m.id), { chatId: chats.big, offset: p });
    }
    const small = view.window(chats.small, 0, 100);
    assert.equal(small.total, 10);
    assert.ok(small.messages.every((m) => m.text!.startsWith('small ')));
  });

  test('an unknown chat is a typed not-found', () => {
    assert.throws(() => view.window(9999, 0, 10), (e: Error & { kind?: string }) => e.kind === 'not-found');
  });
});
