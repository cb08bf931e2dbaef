import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { StorageProfile } from '../../src/app/contract.js';
import { Router } from '../../src/app/router.js';
import { createSampleExport } from '../../src/app/sample-data.js';
import { DEFAULT_SETTINGS, SettingsStore } from '../../src/app/settings-store.js';
import type { StoredProfile } from '../../src/app/storage-profiles.js';
import { RootKey } from '../../src/core/keys/root-key.js';
import { radosgwSkip, startRadosgwWithBucket, startWebDav, webdavSkip, type Service } from '../core/storage/services.js';
import { aesBox } from './aes-box.js';

const S3_SECRET = 'wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY';
const s3Profile = (id: string, secret: string | null = S3_SECRET): StoredProfile => ({
  id,
  name: `Bucket ${id}`,
  target: { kind: 's3', endpoint: 'https://s3.example.org', region: 'eu-west-1', bucket: 'family-chats', prefix: 'phone', accessKeyId: 'AKIAEXAMPLE', pathStyle: true },
  secret,
});

describe('storage profiles in the settings file', () => {
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'chatsafe-profiles-store-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('round trip; with a keychain box the secret is sealed at rest', async () => {
    const box = aesBox();
    const path = join(dir, 'sealed.json');
    const store = new SettingsStore(path, box);
    await store.updateProfiles(() => [s3Profile('profile-aaaa1')]);
    const raw = readFileSync(path, 'utf8');
    assert.ok(!raw.includes(S3_SECRET), 'the secret is not in the file in plaintext');
    assert.ok(!raw.includes('AKIAEXAMPLE') && !raw.includes('family-chats'), 'nor where it points');
    assert.deepEqual(await new SettingsStore(path, box).loadProfiles(), [s3Profile('profile-aaaa1')]);
    assert.equal(statSync(path).mode & 0o777, 0o600);
  });

  test('without the keychain the sealed profiles are unreadable, and saving settings does not erase them', async () => {
    const box = aesBox();
    const path = join(dir, 'carried.json');
    await new SettingsStore(path, box).updateProfiles(() => [s3Profile('profile-bbbb1')]);
    const plainStore = new SettingsStore(path);
    assert.deepEqual(await plainStore.loadProfiles(), []);
    await plainStore.save({ ...DEFAULT_SETTINGS, keepLast: 7 });
    assert.equal((await new SettingsStore(path, box).load()).keepLast, 7);
    assert.deepEqual(await new SettingsStore(path, box).loadProfiles(), [s3Profile('profile-bbbb1')]);
  });

  test('web mode: profiles in the owner-only file; settings and profiles saved by turns do not lose each other', async () => {
    const path = join(dir, 'plain.json');
    const store = new SettingsStore(path);
    await Promise.all([store.save({ ...DEFAULT_SETTINGS, theme: 'dark' }), store.updateProfiles((l) => [...l, s3Profile('profile-cccc1')]), store.updateProfiles((l) => [...l, s3Profile('profile-cccc2')])]);
    assert.equal((await store.load()).theme, 'dark');
    assert.deepEqual((await store.loadProfiles()).map((p) => p.id), ['profile-cccc1', 'profile-cccc2']);
    assert.equal(statSync(path).mode & 0o777, 0o600);
  });

  test('a damaged profile list: defaults, the file kept aside', async () => {
    const path = join(dir, 'damaged.json');
    writeFileSync(path, JSON.stringify({ settings: {}, rememberedRepos: [], storageProfiles: [{ id: 'x', name: '', target: { kind: 'ftp' } }] }));
    const store = new SettingsStore(path);
    assert.deepEqual(await store.loadProfiles(), []);
    assert.deepEqual(await store.load(), DEFAULT_SETTINGS);
    assert.ok(statSync(`${path}.damaged`).isFile());
  });
});

describe('storage profiles through the router', () => {
  let dir: string;
  let router: Router;
  let settingsPath: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'chatsafe-profiles-router-'));
    settingsPath = join(dir, 'settings.json');
    router = new Router({ front: 'web', settings: new SettingsStore(settingsPath) });
  });
  after(async () => {
    await router.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  const call = async <T>(channel: string, request: unknown): Promise<T> => {
    const r = await router.handle(channel, request);
    assert.ok(r.ok, r.ok ? '' : `${channel}: ${r.error.kind}: ${r.error.message}`);
    return r.value as T;
  };
  const refused = async (channel: string, request: unknown): Promise<{ kind: string; message: string }> => {
    const r = await router.handle(channel, request);
    assert.equal(r.ok, false, `${channel} accepted ${JSON.stringify(request)}`);
    return r.ok ? { kind: '', message: '' } : r.error;
  };

  test('the secret goes in and never comes back out; an edit without it keeps it', async () => {
    const target = { kind: 's3', endpoint: 'https://s3.example.org', region: 'eu-west-1', bucket: 'family-chats', prefix: 'phone/2024', accessKeyId: 'AKIAEXAMPLE', pathStyle: true };
    const saved = await call<StorageProfile>('profiles.save', { name: 'Office bucket', target, secret: S3_SECRET });
    assert.equal(saved.hasSecret, true);
    assert.equal(saved.address, `profile:${saved.id}`);
    assert.equal(saved.location, 's3://family-chats/phone/2024 at s3.example.org');
    const listed = await call<{ profiles: StorageProfile[] }>('profiles.list', {});
    assert.ok(!JSON.stringify(listed).includes(S3_SECRET));
    assert.ok(!JSON.stringify(saved).includes(S3_SECRET));
    const renamed = await call<StorageProfile>('profiles.save', { id: saved.id, name: 'Office', target });
    assert.equal(renamed.hasSecret, true);
    const stored = await new SettingsStore(settingsPath).loadProfiles();
    assert.equal(stored.find((p) => p.id === saved.id)?.secret, S3_SECRET, 'kept on edit');
    // Another kind of storage needs its own secret.
    const err = await refused('profiles.save', { id: saved.id, name: 'Office', target: { kind: 'webdav', url: 'https://dav.example.org/chats', user: 'ada' } });
    assert.equal(err.kind, 'usage');
    assert.match(err.message, /password/);
    await call('profiles.remove', { id: saved.id });
    assert.equal((await refused('profiles.remove', { id: saved.id })).kind, 'not-found');
  });

  test('an edit that changes where the secret would go needs it typed again; the saved one stays where it was', async () => {
    const DAV_PW = 'correct-horse-DAV-pw';
    const dav = { kind: 'webdav', url: 'https://dav.example.org/chats', user: 'ada' };
    const saved = await call<StorageProfile>('profiles.save', { name: 'Home NAS', target: dav, secret: DAV_PW });
    const stored = async () => (await new SettingsStore(settingsPath).loadProfiles()).find((p) => p.id === saved.id);
    // Same address: a rename keeps the password.
    assert.equal((await call<StorageProfile>('profiles.save', { id: saved.id, name: 'NAS', target: dav })).hasSecret, true);
    for (const moved of [{ ...dav, url: 'http://127.0.0.1:45999/x/' }, { ...dav, url: 'https://dav.example.org/other' }, { ...dav, user: 'eve' }]) {
      const err = await refused('profiles.save', { id: saved.id, name: 'NAS', target: moved });
      assert.equal(err.kind, 'usage', JSON.stringify(moved));
      assert.match(err.message, /enter the password again/i);
      assert.ok(!JSON.stringify(err).includes(DAV_PW), 'no secret echoed');
      assert.deepEqual(await stored(), { id: saved.id, name: 'NAS', target: dav, secret: DAV_PW }, 'nothing changed');
    }
    // With the password typed again the new address is saved, with that password only.
    const moved = { ...dav, url: 'http://127.0.0.1:45999/x/' };
    await call('profiles.save', { id: saved.id, name: 'NAS', target: moved, secret: 'the-new-servers-pw' });
    assert.deepEqual(await stored(), { id: saved.id, name: 'NAS', target: moved, secret: 'the-new-servers-pw' });
    await call('profiles.remove', { id: saved.id });

    const s3 = { kind: 's3', endpoint: 'https://s3.example.org', region: 'eu-west-1', bucket: 'family-chats', prefix: 'phone', accessKeyId: 'AKIAEXAMPLE', pathStyle: true };
    const bucket = await call<StorageProfile>('profiles.save', { name: 'Bucket', target: s3, secret: S3_SECRET });
    // Another folder in the same bucket, on the same server, with the same key: kept.
    assert.equal((await call<StorageProfile>('profiles.save', { id: bucket.id, name: 'Bucket', target: { ...s3, prefix: 'tablet' } })).hasSecret, true);
    const changes = [{ endpoint: 'http://127.0.0.1:45999' }, { endpoint: '' }, { region: 'us-east-1' }, { bucket: 'other-bucket' }, { accessKeyId: 'AKIAOTHER' }, { pathStyle: false }];
    for (const change of changes) {
      const err = await refused('profiles.save', { id: bucket.id, name: 'Bucket', target: { ...s3, prefix: 'tablet', ...change } });
      assert.equal(err.kind, 'usage', JSON.stringify(change));
      assert.match(err.message, /enter the secret access key again/i);
      assert.ok(!JSON.stringify(err).includes(S3_SECRET), 'no secret echoed');
    }
    const kept = (await new SettingsStore(settingsPath).loadProfiles()).find((p) => p.id === bucket.id);
    assert.deepEqual(kept, { id: bucket.id, name: 'Bucket', target: { ...s3, prefix: 'tablet' }, secret: S3_SECRET });
    await call('profiles.remove', { id: bucket.id });
  });

  test('bad destinations are refused with clear messages', async () => {
    const s3 = { kind: 's3', endpoint: '', region: 'us-east-1', bucket: 'chats', prefix: '', accessKeyId: 'AKIA', pathStyle: false };
    const cases: Array<[unknown, RegExp]> = [
      [{ name: 'x', target: { ...s3, endpoint: 'ftp://files.example.org' } }, /^Endpoint: must be an https:\/\//],
      [{ name: 'x', target: { ...s3, endpoint: 'https://ada:pw@s3.example.org' } }, /user name or password/],
      [{ name: 'x', target: { ...s3, endpoint: 'https://s3.example.org/path' } }, /no path/],
      [{ name: 'x', target: { ...s3, bucket: 'No_Such Bucket' } }, /bucket names/],
      [{ name: 'x', target: { ...s3, prefix: 'a/../b' } }, /prefix/],
      [{ name: 'x', target: { ...s3, region: 'Mars 1' } }, /region/],
      [{ name: 'x', target: { kind: 'webdav', url: 'javascript:alert(1)', user: 'ada' }, secret: 'pw' }, /https:\/\//],
      [{ name: 'x', target: { kind: 'webdav', url: 'https://ada:pw@dav.example.org/', user: 'ada' }, secret: 'pw' }, /user name or password/],
      [{ name: 'x', target: { kind: 'webdav', url: 'https://dav.example.org/?token=1', user: 'ada' }, secret: 'pw' }, /\? or #/],
      [{ name: '', target: { kind: 'folder', path: '/tmp/x' } }, /^Name: give the destination a name/],
      [{ name: 'a\u0007b', target: { kind: 'folder', path: '/tmp/x' } }, /^Name: must not contain control characters/],
      [{ name: 'x'.repeat(101), target: { kind: 'folder', path: '/tmp/x' } }, /^Name: at most 100 characters/],
      [{ name: 'x', target: s3, secret: 'y'.repeat(1025) }, /^The secret key or password: /],
      [{ name: 'x', target: s3 }, /secret access key/],
      // The core's own rule: plain http WebDAV only to this machine.
      [{ name: 'x', target: { kind: 'webdav', url: 'http://dav.example.org/chats', user: 'ada' }, secret: 'pw' }, /http/i],
    ];
    for (const [req, message] of cases) {
      const err = await refused('profiles.save', req);
      assert.match(`${err.message}`, message, JSON.stringify(req));
      assert.ok(!err.message.includes('pw@') && !err.message.includes('y'.repeat(50)), 'no secret echoed');
    }
    assert.deepEqual((await call<{ profiles: StorageProfile[] }>('profiles.list', {})).profiles, []);
    await call('profiles.save', { name: 'USB', target: { kind: 'folder', path: join(dir, 'usb') } });
    assert.equal((await refused('profiles.save', { name: 'usb', target: { kind: 'folder', path: join(dir, 'other') } })).kind, 'conflict');
  });

  test('a folder profile: check, back up and unlock by its address', async () => {
    const p = await call<StorageProfile>('profiles.save', { name: 'Backup disk', target: { kind: 'folder', path: join(dir, 'disk', 'chats') } });
    assert.equal(p.hasSecret, false);
    const check = await call<{ ok: boolean; message: string }>('storage.check', { address: p.address, purpose: 'new' });
    assert.ok(check.ok, check.message);
    const sample = await createSampleExport();
    try {
      const key = RootKey.generate().toDisplayString();
      const backup = await router.handle('backup', { jobId: 'job-profile-folder', request: { sources: [sample], address: p.address, mode: 'create', protection: { kind: 'key', key }, keepLast: 1 } });
      assert.ok(backup.ok, backup.ok ? '' : backup.error.message);
      assert.equal((backup.value as { location: string }).location, join(dir, 'disk', 'chats'));
      const unlocked = await call<{ snapshots: unknown[] }>('repo.unlock', { address: p.address, credential: { kind: 'key', key } });
      assert.equal(unlocked.snapshots.length, 1);
      const header = await call<{ kind: string }>('inspect.header', { address: p.address });
      assert.equal(header.kind, 'repository');
    } finally {
      rmSync(dirname(sample), { recursive: true, force: true });
    }
  });

  test('a missing profile is a typed error wherever an address goes', async () => {
    const missing = 'profile:gone-gone-gone';
    assert.equal((await refused('inspect.header', { address: missing })).kind, 'not-found');
    assert.equal((await refused('repo.unlock', { address: missing, credential: { kind: 'key', key: RootKey.generate().toDisplayString() } })).kind, 'not-found');
    const job = await router.handle('check', { jobId: 'job-missing-profile', request: { address: missing, readData: false } });
    assert.equal(job.ok ? null : job.error.kind, 'not-found');
    const check = await call<{ ok: boolean; message: string }>('storage.check', { address: missing, purpose: 'new' });
    assert.equal(check.ok, false);
    assert.match(check.message, /no longer exists/);
  });
});

describe('a WebDAV profile against a real server', { skip: webdavSkip }, () => {
  let dir: string;
  let dav: Service;
  let router: Router;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'chatsafe-profiles-dav-'));
    dav = await startWebDav();
    router = new Router({ front: 'web', settings: new SettingsStore(join(dir, 'settings.json')) });
  });
  after(async () => {
    await router.dispose();
    await dav?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the saved password opens the server; a wrong one is reported by the check', async () => {
    const target = { kind: 'webdav', url: `${dav.env.WEBDAV_URL}/profile-test`, user: dav.env.CHATSAFE_WEBDAV_USER };
    // The router process has no WebDAV variables: only the profile can supply the password.
    assert.equal(process.env.CHATSAFE_WEBDAV_PASSWORD, undefined);
    const good = await router.handle('profiles.save', { name: 'Home NAS', target, secret: dav.env.CHATSAFE_WEBDAV_PASSWORD });
    assert.ok(good.ok, good.ok ? '' : good.error.message);
    const profile = good.value as StorageProfile;
    const check = await router.handle('storage.check', { address: profile.address, purpose: 'new' });
    assert.deepEqual(check.ok && check.value, { ok: true, message: 'Ready: a new repository will be created there.' });
    const sample = await createSampleExport();
    try {
      const key = RootKey.generate().toDisplayString();
      const backup = await router.handle('backup', { jobId: 'job-profile-dav', request: { sources: [sample], address: profile.address, mode: 'create', protection: { kind: 'key', key }, keepLast: 1 } });
      assert.ok(backup.ok, backup.ok ? '' : backup.error.message);
      const again = await router.handle('storage.check', { address: profile.address, purpose: 'existing' });
      assert.deepEqual(again.ok && (again.value as { ok: boolean }).ok, true);
      const unlocked = await router.handle('repo.unlock', { address: profile.address, credential: { kind: 'key', key } });
      assert.ok(unlocked.ok && (unlocked.value as { snapshots: unknown[] }).snapshots.length === 1);
    } finally {
      rmSync(dirname(sample), { recursive: true, force: true });
    }
    const wrong = await router.handle('profiles.save', { id: profile.id, name: 'Home NAS', target, secret: 'not-the-password' });
    assert.ok(wrong.ok);
    const refused = await router.handle('storage.check', { address: profile.address, purpose: 'existing' });
    const answer = refused.ok ? (refused.value as { ok: boolean; message: string }) : null;
    assert.equal(answer?.ok, false);
    assert.ok(answer && !answer.message.includes('not-the-password'), answer?.message);
  });
});

describe('an S3 profile against a real server (Ceph radosgw)', { skip: radosgwSkip }, () => {
  let dir: string;
  let rgw: Service;
  let router: Router;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'chatsafe-profiles-s3-'));
    rgw = await startRadosgwWithBucket('profile-chats');
    router = new Router({ front: 'web', settings: new SettingsStore(join(dir, 'settings.json')) });
  });
  after(async () => {
    await router?.dispose();
    await rgw?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('endpoint, region, bucket, prefix and path style become the address the core opens, with the saved secret', async () => {
    assert.equal(process.env.AWS_SECRET_ACCESS_KEY, undefined, 'only the profile can supply the secret');
    const target = { kind: 's3', endpoint: rgw.env.S3_ENDPOINT, region: 'us-east-1', bucket: 'profile-chats', prefix: 'phones/ada', accessKeyId: rgw.env.AWS_ACCESS_KEY_ID, pathStyle: true };
    const saved = await router.handle('profiles.save', { name: 'Ceph', target, secret: rgw.env.AWS_SECRET_ACCESS_KEY });
    assert.ok(saved.ok, saved.ok ? '' : saved.error.message);
    const profile = saved.value as StorageProfile;
    const check = await router.handle('storage.check', { address: profile.address, purpose: 'new' });
    assert.deepEqual(check.ok && check.value, { ok: true, message: 'Ready: a new repository will be created there.' });
    const sample = await createSampleExport();
    try {
      const key = RootKey.generate().toDisplayString();
      const backup = await router.handle('backup', { jobId: 'job-profile-s3', request: { sources: [sample], address: profile.address, mode: 'create', protection: { kind: 'key', key }, keepLast: 1 } });
      assert.ok(backup.ok, backup.ok ? '' : backup.error.message);
      assert.match((backup.value as { location: string }).location, /^s3:\/\/profile-chats\/phones\/ada/);
      const unlocked = await router.handle('repo.unlock', { address: profile.address, credential: { kind: 'key', key } });
      assert.ok(unlocked.ok && (unlocked.value as { snapshots: unknown[] }).snapshots.length === 1);
      const verify = await router.handle('check', { jobId: 'job-profile-s3-check', request: { address: profile.address, readData: false } });
      assert.ok(verify.ok && (verify.value as { ok: boolean }).ok);
    } finally {
      rmSync(dirname(sample), { recursive: true, force: true });
    }
    await router.handle('profiles.save', { id: profile.id, name: 'Ceph', target, secret: 'not-the-secret-key' });
    const refused = await router.handle('storage.check', { address: profile.address, purpose: 'existing' });
    const answer = refused.ok ? (refused.value as { ok: boolean; message: string }) : null;
    assert.equal(answer?.ok, false);
    assert.ok(answer && !answer.message.includes('not-the-secret-key'), answer?.message);
  });
});
