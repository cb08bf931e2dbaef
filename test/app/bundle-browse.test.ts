import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ChatInfo, MessageInfo, SearchHitInfo, SnapshotInfo } from '../../src/app/contract.js';
import { Router } from '../../src/app/router.js';
import { createSampleExport } from '../../src/app/sample-data.js';
import { SettingsStore } from '../../src/app/settings-store.js';
import { RootKey } from '../../src/core/keys/root-key.js';

/** Private temp folder for this file's tests (TMPDIR is read at each use), so other test files running alongside do not count. */
let privateTmp = '';
const bundleTemps = () => readdirSync(privateTmp).filter((n) => n.startsWith('chatsafe-bundle-')).length;

describe('browsing the chats inside a .chatsafe bundle', () => {
  let dir: string;
  let sample: string;
  let router: Router;
  const key = RootKey.generate().toDisplayString();
  let bundle: string;

  const call = async <T>(channel: string, request: unknown): Promise<T> => {
    const r = await router.handle(channel, request);
    assert.ok(r.ok, r.ok ? '' : `${channel}: ${r.error.kind}: ${r.error.message}`);
    return r.value as T;
  };
  const job = async <T>(channel: string, request: unknown): Promise<T> => call<T>(channel, { jobId: `job-${channel}-${Math.random().toString(36).slice(2, 12)}`, request });

  const savedTmp = process.env.TMPDIR;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'chatsafe-bundle-browse-'));
    privateTmp = join(dir, 'tmp');
    mkdirSync(privateTmp);
    process.env.TMPDIR = privateTmp;
    sample = await createSampleExport();
    // Incompressible bytes, so the bundle spans several 1 MiB segments and damage near its end leaves the front readable.
    writeFileSync(join(sample, 'VID-20240302-WA0002.mp4'), randomBytes(3 * 1024 * 1024));
    router = new Router({ front: 'web', settings: new SettingsStore(join(dir, 'settings.json')) });
    const repo = join(dir, 'repo');
    await job('backup', { sources: [sample], address: repo, mode: 'create', protection: { kind: 'key', key }, keepLast: 1 });
    const { sessionId } = await call<{ sessionId: string }>('repo.unlock', { address: repo, credential: { kind: 'key', key } });
    bundle = join(dir, 'garden.chatsafe');
    await job('export', { sessionId, snapshot: 'latest', outPath: bundle });
    await call('session.close', { sessionId });
  });
  after(async () => {
    if (savedTmp === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = savedTmp;
    await router.dispose();
    rmSync(dir, { recursive: true, force: true });
    rmSync(dirname(sample), { recursive: true, force: true });
  });

  test('unlocked with the key: its snapshot, chats, a window of messages, search, media preview, HTML export', async () => {
    const before = bundleTemps();
    const unlocked = await call<{ sessionId: string; kind: string; snapshots: SnapshotInfo[] }>('repo.unlock', { address: bundle, credential: { kind: 'key', key } });
    assert.equal(unlocked.kind, 'bundle');
    assert.equal(unlocked.snapshots.length, 1);
    assert.equal(unlocked.snapshots[0]!.hasCatalog, true);
    const opened = await call<{ catalogId: string; chats: ChatInfo[]; counts: Record<string, number> }>('catalog.open', { sessionId: unlocked.sessionId, snapshot: unlocked.snapshots[0]!.shortId });
    assert.deepEqual(
      opened.chats.map((c) => [c.name, c.messageCount]),
      [['Garden Club', 120]],
    );
    const chat = opened.chats[0]!;
    const win = await call<{ total: number; messages: MessageInfo[] }>('catalog.messages', { catalogId: opened.catalogId, chatId: chat.id, offset: 100, limit: 50 });
    assert.equal(win.total, 120);
    assert.equal(win.messages.length, 20);
    const { hits } = await call<{ hits: SearchHitInfo[] }>('catalog.search', { catalogId: opened.catalogId, query: 'lemon tree' });
    assert.equal(hits.length, 15);
    const pos = await call<{ offset: number }>('catalog.position', { catalogId: opened.catalogId, messageId: hits[0]!.messageId });
    assert.equal(pos.offset % 8, 5, 'the lemon tree is the sixth line of every eight');
    const all = await call<{ messages: MessageInfo[] }>('catalog.messages', { catalogId: opened.catalogId, chatId: chat.id, offset: 0, limit: 200 });
    const withPicture = all.messages.find((m) => m.media?.available);
    assert.ok(withPicture, 'the attached picture is in the bundle');
    const media = await call<{ mime: string; dataBase64: string }>('catalog.media', { catalogId: opened.catalogId, messageId: withPicture.id });
    assert.equal(media.mime, 'image/png');
    assert.deepEqual(Buffer.from(media.dataBase64, 'base64'), readFileSync(join(sample, 'IMG-20240301-WA0001.jpg')));
    const html = await call<{ path: string; chats: number }>('catalog.exportHtml', { catalogId: opened.catalogId, outDir: join(dir, 'html') });
    assert.equal(html.chats, 1);
    assert.ok(readFileSync(join(html.path, 'index.html'), 'utf8').includes('Garden Club'));
    // Only the picture is kept beside the catalog while browsing (the chat text is not media).
    assert.equal(bundleTemps(), before + 1);
    await call('catalog.close', { catalogId: opened.catalogId });
    assert.equal(bundleTemps(), before, 'the private folder is gone once the catalog is closed');
    await call('session.close', { sessionId: unlocked.sessionId });
  });

  test('a bundle damaged near its end is refused before anything is shown, and leaves nothing behind', async () => {
    const damaged = join(dir, 'damaged.chatsafe');
    const bytes = readFileSync(bundle);
    bytes[bytes.length - 20]! ^= 0x01;
    writeFileSync(damaged, bytes);
    const before = bundleTemps();
    const unlocked = await call<{ sessionId: string }>('repo.unlock', { address: damaged, credential: { kind: 'key', key } });
    const r = await router.handle('catalog.open', { sessionId: unlocked.sessionId, snapshot: 'latest' });
    assert.equal(r.ok ? 'opened' : r.error.kind, 'integrity');
    assert.equal(bundleTemps(), before);
    const other = await router.handle('catalog.open', { sessionId: unlocked.sessionId, snapshot: 'abcdef12' });
    assert.equal(other.ok ? 'opened' : other.error.kind, 'not-found');
  });
});
