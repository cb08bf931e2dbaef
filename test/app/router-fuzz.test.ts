import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AppErrorSchema, CHANNELS, CHANNEL_NAMES, JobEnvelopeSchema } from '../../src/app/contract.js';
import { Router } from '../../src/app/router.js';
import { SettingsStore } from '../../src/app/settings-store.js';
import { malformedRequests, VALID_EXAMPLES } from './malformed.js';

describe('IPC router', () => {
  let dir: string;
  let router: Router;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'chatsafe-router-'));
    router = new Router({ front: 'web', settings: new SettingsStore(join(dir, 'settings.json')) });
  });
  after(async () => {
    await router.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the fuzz examples are valid requests (so their mutations test the schemas)', () => {
    for (const name of CHANNEL_NAMES) {
      const def = CHANNELS[name];
      const ok = def.request.safeParse(VALID_EXAMPLES[name]).success;
      assert.ok(ok, `example for ${name} should be valid`);
      if (def.kind === 'job') assert.ok(JobEnvelopeSchema.safeParse({ jobId: 'job-0123456789', request: VALID_EXAMPLES[name] }).success);
    }
  });

  test('1,000 malformed requests are all rejected with typed errors, and nothing runs', async () => {
    const kinds = new Map<string, number>();
    for (const m of malformedRequests(1000)) {
      const r = await router.handle(m.channel, m.payload);
      assert.equal(r.ok, false, `accepted: ${m.what} on ${String(m.channel)}`);
      if (r.ok) continue;
      assert.ok(AppErrorSchema.safeParse(r.error).success, `untyped error for ${m.what}`);
      assert.equal(r.error.kind, 'usage', `${m.what} on ${String(m.channel)} gave ${r.error.kind}: ${r.error.message}`);
      assert.doesNotMatch(r.error.message, /\n\s+at |node:internal|\.js:\d+/, 'no stack traces');
      assert.ok(r.error.message.length < 400);
      kinds.set(m.what.split(' ')[0]!, (kinds.get(m.what.split(' ')[0]!) ?? 0) + 1);
    }
    assert.ok(kinds.size >= 5, `varied mutations: ${[...kinds.keys()].join(', ')}`);
    assert.equal(router.jobs.size, 0, 'no job was started');
    assert.equal(({} as Record<string, unknown>).polluted, undefined, 'no prototype pollution');
    const info = await router.handle('app.info', {});
    assert.equal(info.ok, true, 'the router still answers');
  });

  test('well-formed requests for things that do not exist get typed errors too', async () => {
    const r1 = await router.handle('catalog.messages', { catalogId: 'nope-nope-nope', chatId: 1, offset: 0, limit: 5 });
    assert.deepEqual(r1.ok ? null : r1.error.kind, 'not-found');
    const r2 = await router.handle('restore', { jobId: 'job-aaaaaaaaaa', request: { sessionId: 'nope-nope-nope', snapshot: 'latest', target: join(dir, 't') } });
    assert.deepEqual(r2.ok ? null : r2.error.kind, 'not-found');
    const r3 = await router.handle('inspect.header', { address: join(dir, 'missing') });
    assert.deepEqual(r3.ok ? null : r3.error.kind, 'not-found');
    const r4 = await router.handle('shell.openExternal', { url: 'https://evil.example/' });
    assert.deepEqual(r4.ok ? null : r4.error.kind, 'forbidden');
    const r5 = await router.handle('dialog.open', { pick: 'file', title: 'x' });
    assert.deepEqual(r5.ok ? null : r5.error.kind, 'unsupported', 'web mode has no native dialogs');
    const r6 = await router.handle('detect', { jobId: 'job-bbbbbbbbbb', request: { path: join(dir, 'missing') } });
    assert.equal(r6.ok, false);
    if (!r6.ok) assert.ok(AppErrorSchema.safeParse(r6.error).success);
  });

  test('a job can be cancelled by its id; an unknown id cancels nothing', async () => {
    const r = await router.handle('job.cancel', { jobId: 'job-cccccccccc' });
    assert.deepEqual(r, { ok: true, value: { cancelled: false } });
  });

  test('settings round-trip and reject out-of-range values', async () => {
    const set = await router.handle('settings.set', { keepLast: 4, theme: 'dark' });
    assert.equal(set.ok, true);
    const got = await router.handle('settings.get', {});
    assert.equal(got.ok && (got.value as { keepLast: number }).keepLast, 4);
    const bad = await router.handle('settings.set', { keepLast: 0 });
    assert.equal(bad.ok, false);
  });
});
