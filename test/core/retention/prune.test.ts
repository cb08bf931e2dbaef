import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test, type TestContext } from 'node:test';
import { backup } from '../../../src/core/backup/backup.js';
import { IntegrityError } from '../../../src/core/errors.js';
import { restore } from '../../../src/core/restore/restore.js';
import { forget, prune } from '../../../src/core/retention/retention.js';
import { objectPath } from '../../../src/core/storage/backend.js';
import { repoWithSource } from '../../helpers/repo.js';
import { pseudoRandomBytes } from '../../helpers/tmp.js';

const KEEP = pseudoRandomBytes(300_000, 11);
const DROP = pseudoRandomBytes(900_000, 12);

/**
 * Two backups: the first of a file kept and a larger one then deleted, the
 * second of the kept file only; the first is forgotten. The one data pack now
 * holds mostly unused bytes, so prune must move the kept file's blobs (which
 * come first in the pack, by name) into a new pack.
 */
async function repoToRepack(t: TestContext) {
  const r = await repoWithSource(t, { 'a-keep.bin': KEEP, 'b-drop.bin': DROP });
  await backup(r.repo, { sources: [r.src] });
  rmSync(join(r.src, 'b-drop.bin'));
  await backup(r.repo, { sources: [r.src] });
  await forget(r.repo, 1);
  const index = await r.repo.loadIndex();
  const dataPacks = [...index.packs.keys()].filter((p) => index.blobsOfPack(p)!.some((b) => b.type === 'data'));
  assert.equal(dataPacks.length, 1, 'both files went into one data pack');
  return { ...r, pack: dataPacks[0]! };
}

function files(dir: string): Map<string, number> {
  const out = new Map<string, number>();
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.set(relative(dir, p), statSync(p).size);
    }
  };
  walk(dir);
  return out;
}

test('prune moves the blobs still used out of a mostly unused pack, and they restore exactly', async (t) => {
  const r = await repoToRepack(t);
  const result = await prune(r.repo);
  assert.ok(result.packsRewritten >= 1, 'the data pack (and the tree pack) were rewritten');
  assert.equal(existsSync(join(r.dir, 'repo', objectPath('data', r.pack))), false);
  assert.ok(result.bytesFreed > DROP.length * 0.9, `${result.bytesFreed} bytes freed`);
  const [snapshot] = await r.repo.listSnapshots();
  const target = join(r.dir, 'restored');
  await restore(r.repo, { snapshot: snapshot!, target });
  assert.ok(readFileSync(join(target, 'src', 'a-keep.bin')).equals(KEEP));
});

test('a blob that must move but fails authentication stops prune before anything is written or removed', async (t) => {
  const r = await repoToRepack(t);
  const repoDir = join(r.dir, 'repo');
  const packFile = join(repoDir, objectPath('data', r.pack));
  const bytes = readFileSync(packFile);
  bytes[100] = bytes[100]! ^ 0x01; // inside the first blob: the kept file's first chunk
  writeFileSync(packFile, bytes);
  const before = files(repoDir);
  await assert.rejects(prune(r.repo), (e: unknown) => e instanceof IntegrityError && e.message.includes(objectPath('data', r.pack)) && /authentication/.test(e.message));
  const after = files(repoDir);
  for (const name of [...after.keys()].filter((n) => n.startsWith('locks'))) after.delete(name);
  for (const name of [...before.keys()].filter((n) => n.startsWith('locks'))) before.delete(name);
  assert.deepEqual(after, before, 'no pack or index file was written or removed');
});
