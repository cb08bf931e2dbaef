/* global requestAnimationFrame */
// A chat of 100,000 messages in the inspector: the list stays virtualized
// (a bounded number of rows in the page), jumping to the end shows the last
// message at once, and scrolling keeps frames short. The backup is made with
// the CLI (the wizard is covered elsewhere); the browsing is in the window.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CLI, openApp, SKIP, tempDir } from '../harness.mjs';

const COUNT = 100_000;

describe('a chat of 100,000 messages', { skip: SKIP }, () => {
  let app;
  let dir;
  before(async () => {
    dir = tempDir();
    const chat = join(dir, 'WhatsApp Chat with Big Group');
    mkdirSync(chat);
    const lines = [];
    const start = Date.UTC(2020, 0, 1);
    const p = (n) => String(n).padStart(2, '0');
    for (let i = 0; i < COUNT; i++) {
      const t = new Date(start + i * 61_000);
      lines.push(`${p(t.getUTCDate())}/${p(t.getUTCMonth() + 1)}/${t.getUTCFullYear()}, ${p(t.getUTCHours())}:${p(t.getUTCMinutes())} - ${i % 3 ? 'Ada' : 'Ben'}: message number ${i} about the garden`);
    }
    writeFileSync(join(chat, 'WhatsApp Chat with Big Group.txt'), `${lines.join('\n')}\n`);
    for (const args of [['init', '--repo', join(dir, 'repo'), '--key-file', join(dir, 'key')], ['backup', '--repo', join(dir, 'repo'), '--key-file', join(dir, 'key'), chat]]) {
      const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, CHATSAFE_CACHE_DIR: join(dir, 'cache') } });
      assert.equal(r.status, 0, r.stderr);
    }
    app = await openApp('large-chat');
  });
  after(async () => {
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('virtualized list: bounded rows, instant jump to the end, short frames while scrolling', async () => {
    const { page, shots } = app;
    await page.getByRole('button', { name: 'Inspect', exact: true }).click();
    await page.getByLabel(/^Backup \(a repository/).fill(join(dir, 'repo'));
    await page.getByText('Open with the key the user gave you').click();
    await page.getByLabel('Key (64 digits)').fill(readFileSync(join(dir, 'key'), 'utf8'));
    await page.getByRole('button', { name: 'Unlock' }).click();
    const opened = Date.now();
    await page.getByRole('button', { name: 'Browse chats' }).click();
    const list = page.getByTestId('messages');
    await list.getByText('message number 0 about the garden', { exact: true }).waitFor({ timeout: 60_000 });
    const openMs = Date.now() - opened;
    assert.equal(await list.getAttribute('aria-label'), `Messages (${COUNT})`);

    const rows = await list.locator('.msg').count();
    assert.ok(rows < 100, `${rows} rows in the page for ${COUNT} messages`);

    const jumped = Date.now();
    await list.evaluate((el) => (el.scrollTop = el.scrollHeight));
    await list.getByText(`message number ${COUNT - 1} about the garden`, { exact: true }).waitFor({ timeout: 10_000 });
    const jumpMs = Date.now() - jumped;
    await shots('end-of-chat');

    // 120 frames of scrolling up by 400 px each, timed in the page.
    const frames = await list.evaluate(
      (el) =>
        new Promise((resolve) => {
          const times = [];
          let last = performance.now();
          let n = 0;
          const step = () => {
            el.scrollTop -= 400;
            const now = performance.now();
            times.push(now - last);
            last = now;
            if (++n < 120) requestAnimationFrame(step);
            else resolve(times);
          };
          requestAnimationFrame(step);
        }),
    );
    frames.sort((a, b) => a - b);
    const median = frames[Math.floor(frames.length / 2)];
    const p95 = frames[Math.floor(frames.length * 0.95)];
    assert.ok((await list.locator('.msg').count()) < 100, 'still bounded after scrolling');
    console.log(`100,000 messages: chat shown in ${openMs} ms, jump to end ${jumpMs} ms, scroll frames median ${median.toFixed(1)} ms, p95 ${p95.toFixed(1)} ms`);
    // Generous bars: the machine running the tests is shared; a non-virtualized list misses them by far.
    assert.ok(median < 50, `median frame ${median} ms`);
    assert.ok(jumpMs < 5_000, `jump to end took ${jumpMs} ms`);
  });
});
