/**
 * Bundles as hostile input: manifests made with the key that break the rules a repository's trees
 * obey, a damaged or newer repository header inside the bundle, and a file cut off after the magic.
 * Each is refused with an error that names the bundle, before anything is written to the target.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { BUNDLE_MAGIC, encodeHeader, RECORD, type BundleHeader } from '../../../src/core/bundle/format.js';
import { readBundleInfo } from '../../../src/core/bundle/read.js';
import { checkBundle, restoreBundle } from '../../../src/core/bundle/restore-bundle.js';
import { SegmentSealer } from '../../../src/core/bundle/stream-aead.js';
import { hkdf, LABELS } from '../../../src/core/crypto/subkeys.js';
import { ChatsafeError } from '../../../src/core/errors.js';
import { RootKey } from '../../../src/core/keys/root-key.js';
import { Repository, type Credential } from '../../../src/core/repo/repository.js';
import { LocalFolderBackend } from '../../../src/core/storage/local-folder.js';
import { tempDir } from '../../helpers/tmp.js';

const T = '1700000000000000000';

interface Item {
  readonly entry: Record<string, unknown>;
  readonly data?: Buffer;
}

const file = (path: string, data: string, extra: Record<string, unknown> = {}): Item => ({ entry: { path, type: 'file', mode: 0o644, mtimeNs: T, size: data.length, ...extra }, data: Buffer.from(data) });
const dir = (path: string, extra: Record<string, unknown> = {}): Item => ({ entry: { path, type: 'dir', mode: 0o755, mtimeNs: T, ...extra } });
const link = (path: string, target: string): Item => ({ entry: { path, type: 'symlink', mode: 0o777, mtimeNs: T, target } });

interface Fixture {
  readonly dir: string;
  readonly credential: Credential;
  /** Writes a bundle of these entries, sealed with the repository's key, as `export` lays one out. */
  bundle(name: string, items: readonly Item[], header?: Partial<BundleHeader>): Promise<string>;
}

async function fixture(t: TestContext): Promise<Fixture> {
  const { dir: root, cleanup } = tempDir();
  t.after(cleanup);
  const key = RootKey.generate();
  const backend = new LocalFolderBackend(join(root, 'repo'));
  const repo = await Repository.init(backend, key);
  const config = await backend.read('config', 'config');
  const slots = await repo.listSlots();
  return {
    dir: root,
    credential: { kind: 'key', key },
    async bundle(name, items, overrides = {}) {
      const salt = randomBytes(32);
      const entries = items.map((i) => i.entry);
      const header: BundleHeader = {
        format: 'chatsafe-bundle',
        version: 1,
        created: new Date().toISOString(),
        appVersion: '0.1.0',
        repository: config.toString('base64'),
        slots,
        salt: salt.toString('base64'),
        noncePrefix: randomBytes(7).toString('base64'),
        files: entries.filter((e) => e.type === 'file').length,
        bytes: items.reduce((n, i) => n + (i.data?.length ?? 0), 0),
        snapshotTime: new Date().toISOString(),
        ...overrides,
      };
      const headerBytes = encodeHeader(header);
      const sealer = new SegmentSealer(hkdf(repo.masterKeyForBundle(), salt, LABELS.bundle), Buffer.from(header.noncePrefix, 'base64'), createHash('sha256').update(headerBytes).digest());
      const out = [headerBytes];
      const manifest = Buffer.from(JSON.stringify({ snapshotId: '0'.repeat(64), snapshot: {}, entries, catalogSize: null }));
      out.push(...sealer.push(record(RECORD.manifest, manifest), manifest));
      for (const { data } of items) {
        if (!data?.length) continue;
        const block = Buffer.alloc(9);
        block.writeUInt32BE(data.length, 0);
        block.writeUInt32BE(data.length, 4);
        out.push(...sealer.push(block, data));
      }
      const end = Buffer.alloc(4);
      end.writeUInt32BE(entries.length);
      out.push(...sealer.push(record(RECORD.end, end), end), ...sealer.final());
      const path = join(root, `${name}.chatsafe`);
      writeFileSync(path, Buffer.concat(out));
      return path;
    },
  };
}

function record(type: number, body: Buffer): Buffer {
  const h = Buffer.alloc(5);
  h[0] = type;
  h.writeUInt32BE(body.length, 1);
  return h;
}

/** Asserts the error is a ChatsafeError of `kind` whose message starts with the bundle's path. */
function namesBundle(kind: string, path: string): (e: unknown) => boolean {
  return (e) => {
    assert.ok(e instanceof ChatsafeError, `a ChatsafeError, not ${String(e)}`);
    assert.equal(e.kind, kind, e.message);
    assert.ok(e.message.startsWith(path), `names the bundle: ${e.message}`);
    assert.ok(!e.message.includes('config:') && !/this repository/i.test(e.message), `says nothing of a repository: ${e.message}`);
    return true;
  };
}

test('a bundle of folders, files and a link in tree order restores (the baseline the hostile cases break)', async (t) => {
  const f = await fixture(t);
  const path = await f.bundle('good', [dir('a'), dir('a/b'), file('a/b/c', 'one'), file('a/d', ''), link('a/l', 'b/c'), file('e', 'two')]);
  const target = join(f.dir, 'out');
  await restoreBundle(path, f.credential, target);
  assert.equal(readFileSync(join(target, 'a', 'b', 'c'), 'utf8'), 'one');
  assert.equal(readFileSync(join(target, 'a', 'l'), 'utf8'), 'one');
  assert.equal((await checkBundle(path, f.credential)).ok, true);
});

test('manifest entries obey the rules of tree nodes and tree order: anything else is damage, and nothing is written', async (t) => {
  const f = await fixture(t);
  const cases: Record<string, Item[]> = {
    'an mtime that is not a decimal': [file('x', 'one', { mtimeNs: 'not-a-number' })],
    'a mode beyond 32 bits': [file('x', 'one', { mode: 2 ** 40 })],
    'a negative mode': [file('x', 'one', { mode: -1 })],
    'a mode with file type bits': [file('x', '#!/bin/sh\n', { mode: 0o106777 })],
    'a link target with NUL': [link('l', 'a\u0000b')],
    'an empty link target': [link('l', '')],
    'a link target of 4097 characters': [link('l', 'x'.repeat(4097))],
    'the same file twice': [file('x', 'one'), file('x', 'two')],
    'a folder and a file at one path': [dir('x'), file('x', 'one')],
    'a file in folders never listed': [file('a/b/c', 'one')],
    'a file before its folder': [file('a/x', 'one'), dir('a')],
    'an entry under a link': [link('l', 'elsewhere'), link('l/sub', 'zzz')],
    'an entry under a file': [file('f', 'one'), file('f/g', 'two')],
    'an unsafe path component': [dir('a'), file('a/../x', 'one')],
  };
  for (const [what, items] of Object.entries(cases)) {
    const path = await f.bundle(what.replace(/\W+/g, '-'), items);
    const target = join(f.dir, `out-${what.replace(/\W+/g, '-')}`);
    await assert.rejects(restoreBundle(path, f.credential, target), namesBundle('integrity', path), what);
    assert.equal(existsSync(target), false, `${what}: nothing written`);
    const report = await checkBundle(path, f.credential);
    assert.equal(report.ok, false, `${what}: check reports it`);
  }
});

test('a bundle cut off after its magic is truncated (damage), not "not a bundle"', async (t) => {
  const { dir: root, cleanup } = tempDir();
  t.after(cleanup);
  const path = join(root, 'cut.chatsafe');
  for (const tail of [Buffer.alloc(0), Buffer.from([0]), Buffer.from([0, 0, 1])]) {
    writeFileSync(path, Buffer.concat([BUNDLE_MAGIC, tail]));
    await assert.rejects(readBundleInfo(path), (e) => e instanceof ChatsafeError && e.kind === 'integrity' && e.message.startsWith(path) && /truncated/.test(e.message), `${tail.length} bytes after the magic`);
  }
  for (const bytes of [Buffer.alloc(0), BUNDLE_MAGIC.subarray(0, 15), Buffer.from('PK\x03\x04 a zip, not a bundle at all')]) {
    writeFileSync(path, bytes);
    await assert.rejects(readBundleInfo(path), (e) => e instanceof ChatsafeError && e.kind === 'not-found' && /not a Chatsafe bundle/.test(e.message));
  }
});

test("a bundle's damaged repository header is the bundle's damage; a newer one names the bundle", async (t) => {
  const f = await fixture(t);
  const items = [file('x', 'one')];
  for (const repository of ['!!!!', '', Buffer.from('{"format":"chatsafe-repository"}').toString('base64')]) {
    const path = await f.bundle('bad-header', items, { repository });
    await assert.rejects(restoreBundle(path, f.credential, join(f.dir, 'out')), namesBundle('integrity', path), repository);
    await assert.rejects(checkBundle(path, f.credential), namesBundle('integrity', path), repository);
  }
  assert.equal(existsSync(join(f.dir, 'out')), false);
  const good = await readBundleInfo(await f.bundle('v1', items));
  const v2 = JSON.parse(Buffer.from(good.header.repository, 'base64').toString('utf8')) as { version: number };
  v2.version = 2;
  const path = await f.bundle('v2', items, { repository: Buffer.from(JSON.stringify(v2)).toString('base64') });
  await assert.rejects(restoreBundle(path, f.credential, join(f.dir, 'out')), namesBundle('unsupported', path));
});

test('check names the damaged bundle once', async (t) => {
  const f = await fixture(t);
  const path = await f.bundle('flipped', [file('x', 'one')]);
  const bytes = readFileSync(path);
  bytes[bytes.length - 20] = bytes[bytes.length - 20]! ^ 1;
  writeFileSync(path, bytes);
  const report = await checkBundle(path, f.credential);
  assert.equal(report.ok, false);
  const [problem] = report.errors;
  assert.equal(problem?.object, path);
  assert.ok(!problem.message.includes(path), `the message does not repeat the bundle: ${problem.message}`);
  assert.match(problem.message, /segment 0/);
});
