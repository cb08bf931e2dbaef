/**
 * The engine's behaviour on one storage back end: every back end (local
 * folder, S3, WebDAV) runs this same suite against a real server.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, symlinkSync, utimesSync, writeFileSync, chmodSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { backup } from '../../../src/core/backup/backup.js';
import { exportBundle } from '../../../src/core/bundle/export.js';
import { restoreBundle } from '../../../src/core/bundle/restore-bundle.js';
import { checkRepository } from '../../../src/core/check/check.js';
import { ChatsafeError, IntegrityError, WrongKeyError } from '../../../src/core/errors.js';
import { RootKey } from '../../../src/core/keys/root-key.js';
import { Repository } from '../../../src/core/repo/repository.js';
import { applyRetention } from '../../../src/core/retention/retention.js';
import { restore } from '../../../src/core/restore/restore.js';
import type { ObjectKind, StorageBackend } from '../../../src/core/storage/backend.js';
import { LIST_IDS } from '../../../src/core/repo/tree.js';
import { writeSparseDatabase } from '../../helpers/sparse-database.js';
import { pseudoRandomBytes, tempDir } from '../../helpers/tmp.js';

export type FreshBackend = () => StorageBackend;

/** A little phone export: text, a unicode name, an empty file, media, a deep folder, a link, modes. */
export function makeSource(root: string, seed = 1): string {
  const src = join(root, `export-${seed}`);
  mkdirSync(join(src, 'Media', 'WhatsApp Images'), { recursive: true });
  writeFileSync(join(src, 'chat.txt'), `12/03/21, 10:15 - Ana: hola ${seed}\n`.repeat(2000));
  writeFileSync(join(src, 'Media', 'Gespräch mit Zoë 🙂.txt'), 'unicode\n');
  writeFileSync(join(src, 'empty'), '');
  writeFileSync(join(src, 'Media', 'WhatsApp Images', 'IMG-1.jpg'), Buffer.concat([Buffer.from([0xff, 0xd8, 0xff]), pseudoRandomBytes(3 * 1024 * 1024, seed)]));
  let deep = src;
  for (let i = 0; i < 30; i++) deep = join(deep, `d${i}`);
  mkdirSync(deep, { recursive: true });
  writeFileSync(join(deep, 'bottom.txt'), 'deep');
  symlinkSync('../../../../etc/passwd', join(src, 'outside-link'));
  chmodSync(join(src, 'chat.txt'), 0o600);
  chmodSync(join(src, 'empty'), 0o444);
  utimesSync(join(src, 'chat.txt'), 1600000000.5, 1600000000.5);
  return src;
}

/** Every entry under dir: type, mode, size, sha256 and mtime (ms) of files, targets of links. */
export function describeTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = lstatSync(p);
      const rel = relative(dir, p);
      if (st.isSymbolicLink()) out[rel] = `link ${readlinkSync(p)}`;
      else if (st.isDirectory()) {
        out[rel] = `dir ${(st.mode & 0o7777).toString(8)}`;
        walk(p);
      } else {
        out[rel] = `file ${(st.mode & 0o7777).toString(8)} ${st.size} ${Math.floor(st.mtimeMs)} ${createHash('sha256').update(readFileSync(p)).digest('hex')}`;
      }
    }
  };
  walk(dir);
  return out;
}

async function storedBytes(b: StorageBackend): Promise<number> {
  let n = 0;
  for (const kind of ['data', 'index', 'snapshots'] as ObjectKind[]) for await (const o of b.list(kind)) n += o.size;
  return n;
}

export function engineSuite(name: string, fresh: () => FreshBackend, skip: string | false = false): void {
  describe(`engine on ${name}`, { skip }, () => {
    const key = () => RootKey.generate();

    it('backs up and restores byte for byte, with modes, times, empty files, unicode names, deep folders and links', async () => {
      const t = tempDir();
      try {
        const k = key();
        const repo = await Repository.init(fresh()(), k);
        const src = makeSource(t.dir);
        const { id } = await backup(repo, { sources: [src] });
        const target = join(t.dir, 'out');
        const reopened = await Repository.open(fresh === undefined ? repo.backend : repo.backend, { kind: 'key', key: k });
        await restore(reopened, { snapshot: await reopened.findSnapshot(id.slice(0, 10)), target });
        assert.deepEqual(describeTree(join(target, 'export-1')), describeTree(src));
        assert.equal(readlinkSync(join(target, 'export-1', 'outside-link')), '../../../../etc/passwd', 'links are stored, not followed');
      } finally {
        t.cleanup();
      }
    });

    it('keeps a database of more than 8192 pages in chunk lists, read back from this storage, and checks and restores it', async () => {
      const t = tempDir();
      try {
        const k = key();
        const repo = await Repository.init(fresh()(), k);
        const src = join(t.dir, 'export');
        mkdirSync(src);
        const pages = LIST_IDS * 2 + 3;
        writeSparseDatabase(join(src, 'msgstore.db'), pages, [1, LIST_IDS, pages - 1], 500);
        await backup(repo, { sources: [src] });
        const reopened = await Repository.open(repo.backend, { kind: 'key', key: k });
        const report = await checkRepository(reopened, { readData: true });
        assert.deepEqual(report.errors, []);
        assert.equal(report.counts.trees, 2 + 3, 'two folders and three chunk lists');
        const target = join(t.dir, 'out');
        await restore(reopened, { snapshot: await reopened.findSnapshot('latest'), target });
        assert.deepEqual(describeTree(join(target, 'export')), describeTree(src));
      } finally {
        t.cleanup();
      }
    });

    it('stores the same data a second time for almost nothing, and keeps only the newest snapshot by default', async () => {
      const t = tempDir();
      try {
        const repo = await Repository.init(fresh()(), key());
        const src = makeSource(t.dir);
        await backup(repo, { sources: [src] });
        const first = await storedBytes(repo.backend);
        const second = await backup(repo, { sources: [src] });
        const retention = await applyRetention(repo, 1);
        assert.equal(retention.forgotten.length, 1);
        assert.equal(retention.pruned, null, 'the forgotten snapshot had the same content as the new one: nothing to prune');
        const grown = (await storedBytes(repo.backend)) - first;
        assert.ok(grown < first * 0.01, `second backup grew the repository by ${grown} of ${first} bytes`);
        assert.deepEqual((await repo.listSnapshots()).map((s) => s.id), [second.id]);
        const report = await checkRepository(repo, { readData: true });
        assert.deepEqual(report.errors, []);
      } finally {
        t.cleanup();
      }
    });

    it('forgets and prunes what retention drops, and the kept snapshots still restore', async () => {
      const t = tempDir();
      try {
        const repo = await Repository.init(fresh()(), key());
        const sources = [1, 2, 3].map((seed) => makeSource(join(t.dir, `s${seed}`), seed));
        const ids: string[] = [];
        for (const src of sources) {
          const r = await backup(repo, { sources: [src] });
          ids.push(r.id);
          await applyRetention(repo, 2);
        }
        assert.deepEqual((await repo.listSnapshots()).map((s) => s.id), ids.slice(1));
        const sizeBefore = await storedBytes(repo.backend);
        const retention = await applyRetention(repo, 1);
        assert.ok(retention.pruned && retention.pruned.packsDeleted + retention.pruned.packsRewritten > 0, 'the dropped snapshot’s own data was pruned');
        assert.ok((await storedBytes(repo.backend)) < sizeBefore * 0.7, 'pruning freed the dropped snapshot’s media');
        const target = join(t.dir, 'out');
        await restore(repo, { snapshot: await repo.findSnapshot('latest'), target });
        assert.deepEqual(describeTree(join(target, 'export-3')), describeTree(sources[2]!));
        assert.deepEqual((await checkRepository(repo, { readData: true })).errors, []);
      } finally {
        t.cleanup();
      }
    });

    it('detects a flipped byte in a pack, names it, and restores nothing from it', async () => {
      const t = tempDir();
      try {
        const repo = await Repository.init(fresh()(), key());
        const src = makeSource(t.dir);
        await backup(repo, { sources: [src] });
        let biggest = { name: '', size: 0 };
        for await (const o of repo.backend.list('data')) if (o.size > biggest.size) biggest = o;
        const bytes = await repo.backend.read('data', biggest.name);
        bytes[Math.floor(bytes.length / 3)]! ^= 0x40;
        await repo.backend.remove('data', biggest.name);
        await repo.backend.write('data', biggest.name, bytes);
        const report = await checkRepository(repo, { readData: true });
        assert.equal(report.ok, false);
        assert.ok(report.errors.some((e) => e.object.includes(biggest.name)), JSON.stringify(report.errors));
        const target = join(t.dir, 'out');
        await assert.rejects(restore(repo, { snapshot: await repo.findSnapshot('latest'), target }), (e: unknown) => e instanceof IntegrityError && e.message.includes(biggest.name));
        const jpg = join(target, 'export-1', 'Media', 'WhatsApp Images', 'IMG-1.jpg');
        assert.throws(() => statSync(jpg), 'the damaged file was not written');
        const leftovers = Object.keys(describeTree(target)).filter((p) => p.includes('.chatsafe-restoring'));
        assert.deepEqual(leftovers, []);
      } finally {
        t.cleanup();
      }
    });

    it('leaves no hidden folder in the target when a restore fails before its first file', async () => {
      const t = tempDir();
      try {
        const repo = await Repository.init(fresh()(), key());
        await backup(repo, { sources: [makeSource(t.dir)] });
        const target = join(t.dir, 'out');
        const failing = () => {
          throw new Error('the window went away');
        };
        await assert.rejects(restore(repo, { snapshot: await repo.findSnapshot('latest'), target, onProgress: failing }), /the window went away/);
        assert.deepEqual(readdirSync(target), []);
      } finally {
        t.cleanup();
      }
    });

    it('tells a wrong key from the right one, and suggests the one mistyped digit', async () => {
      const k = key();
      const backend = fresh()();
      await Repository.init(backend, k);
      await assert.rejects(Repository.open(backend, { kind: 'key', key: key() }), (e: unknown) => e instanceof WrongKeyError && e.suggestion === undefined);
      const digits = k.toDisplayString().replace(/ /g, '');
      const typed = digits.slice(0, 9) + (digits[9] === 'A' ? 'B' : 'A') + digits.slice(10);
      await assert.rejects(
        Repository.open(backend, { kind: 'key', key: RootKey.parse(typed), typed }),
        (e: unknown) => e instanceof WrongKeyError && e.suggestion?.group === 3 && e.suggestion.digit === 2 && e.suggestion.suggested === digits[9],
      );
    });

    it('exports a snapshot as a bundle that restores with the same key', async () => {
      const t = tempDir();
      try {
        const k = key();
        const repo = await Repository.init(fresh()(), k);
        const src = makeSource(t.dir);
        await backup(repo, { sources: [src] });
        const file = join(t.dir, 'b.chatsafe');
        await exportBundle(repo, await repo.findSnapshot('latest'), file);
        const target = join(t.dir, 'out');
        await restoreBundle(file, { kind: 'key', key: k }, target);
        assert.deepEqual(describeTree(join(target, 'export-1')), describeTree(src));
      } finally {
        t.cleanup();
      }
    });

    it('resumes a cancelled backup without storing again what already landed', async () => {
      const t = tempDir();
      try {
        const repo = await Repository.init(fresh()(), key());
        const src = join(t.dir, 'media');
        mkdirSync(src);
        for (let i = 0; i < 6; i++) writeFileSync(join(src, `VID-${i}.mp4`), Buffer.concat([Buffer.from('\0\0\0\x18ftypmp42', 'latin1'), pseudoRandomBytes(8 * 1024 * 1024, 10 + i)]));
        const controller = new AbortController();
        let seen = 0;
        await assert.rejects(
          backup(repo, {
            sources: [src],
            signal: controller.signal,
            onProgress: (p) => {
              seen = p.bytesDone;
              if (p.bytesDone > 40 * 1024 * 1024) controller.abort();
            },
          }),
          (e: unknown) => e instanceof ChatsafeError && e.kind === 'cancelled',
        );
        assert.ok(seen > 40 * 1024 * 1024);
        assert.equal((await repo.listSnapshots()).length, 0, 'a cancelled backup makes no snapshot');
        const landed = await storedBytes(repo.backend);
        assert.ok(landed > 16 * 1024 * 1024, `${landed} bytes landed before the cancel`);
        const done = await backup(repo, { sources: [src] });
        assert.ok(done.snapshot.summary.newBytes < 48 * 1024 * 1024 - landed + 16 * 1024 * 1024, `resumed backup stored ${done.snapshot.summary.newBytes} new bytes`);
        assert.deepEqual((await checkRepository(repo, { readData: true })).errors.filter((e) => !e.message.includes('not in any index')), []);
      } finally {
        t.cleanup();
      }
    });
  });
}
