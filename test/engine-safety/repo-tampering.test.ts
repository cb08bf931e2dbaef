/**
 * Tampering with each kind of repository object (packs, index files,
 * snapshots, key slots, the config header): flipped bytes, truncation,
 * deletion, swapped contents and replayed old objects. `check --read-data`
 * must fail with exit 4 and name the object; `restore` must fail and write
 * nothing that was not authenticated (only complete, exact files; no
 * temporary files).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readFileSync, rmSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeRun, makeTempDir, runCli, type TempDir } from '../helpers/cli.js';
import {
  assertOnlyCompleteFiles,
  assertSameTree,
  backupOf,
  chatLikeSpec,
  digestTree,
  initRepo,
  objectsOf,
  ok,
  repoArgs,
  underName,
  writeTree,
  writeSeededFile,
  type TestRepo,
  type TreeDigest,
} from './scenario.js';

let tmp: TempDir;
/** snapshot 1 (source v1) and snapshot 2 (source v2), kept both; two key slots. */
let pristine: TestRepo;
/** The same after `forget --keep-last 1` and `prune`: snapshot 2 only, one consolidated index. */
let pruned: TestRepo;
let snap1: string;
let snap2: string;
let digest1: TreeDigest;
let digest2: TreeDigest;
let packs1: string[]; // packs written by the first backup (snapshot 2 reuses their data)
let packs2: string[]; // packs written by the second backup
let index1: string[];
let index2: string[];
let slots: string[];
/** Objects of `pristine` that prune removed, with their bytes, for replay. */
const preservedIndex = new Map<string, Buffer>();

before(async () => {
  tmp = makeTempDir('tamper');
  const src = join(tmp.path, 'src');
  writeTree(src, { ...chatLikeSpec(2_000_000), random: { ...chatLikeSpec(2_000_000).random, 'Media/old-video.mp4': 1_500_000 } }, 'v1');
  digest1 = underName(digestTree(src), 'src');
  pristine = await initRepo(tmp.path, 'pristine');
  snap1 = await backupOf(pristine, [src]);
  packs1 = objectsOf(pristine.path, 'data');
  index1 = objectsOf(pristine.path, 'index');

  // version 2: one file gone (its data is snapshot 1's alone), one new, one changed
  rmSync(join(src, 'Media/old-video.mp4'));
  writeSeededFile(join(src, 'Media/new-video.mp4'), 'v2/new', 1_200_000);
  writeFileSync(join(src, 'Chats/nested/deeper/deepest/notes — ñ.txt'), 'deep note, edited\n');
  digest2 = underName(digestTree(src), 'src');
  snap2 = await backupOf(pristine, [src], ['--keep-last', '2']);
  packs2 = objectsOf(pristine.path, 'data').filter((p) => !packs1.includes(p));
  index2 = objectsOf(pristine.path, 'index').filter((p) => !index1.includes(p));
  await ok(['key', 'add', ...repoArgs(pristine), '--new-key-file', join(tmp.path, 'second.key')]);
  slots = objectsOf(pristine.path, 'keys');
  assert.ok(packs1.length >= 1 && packs2.length >= 1 && index1.length >= 1 && index2.length >= 1 && slots.length === 2, 'the scenario has the objects it needs');

  pruned = { path: join(tmp.path, 'pruned'), keyFile: pristine.keyFile };
  cpSync(pristine.path, pruned.path, { recursive: true });
  await ok(['forget', ...repoArgs(pruned), '--keep-last', '1']);
  await ok(['prune', ...repoArgs(pruned)]);
  for (const rel of [...index1, ...index2]) preservedIndex.set(rel, readFileSync(join(pristine.path, rel)));
  assert.ok(
    [...preservedIndex.keys()].some((rel) => !objectsOf(pruned.path, 'index').includes(rel)),
    'prune replaced at least one index file (so an old one can be replayed)',
  );
});
after(() => tmp?.remove());

let caseNo = 0;
/** A fresh copy of a prepared repository for one case. */
function copyOf(base: TestRepo): TestRepo {
  const path = join(tmp.path, `case-${++caseNo}`);
  cpSync(base.path, path, { recursive: true });
  return { path, keyFile: base.keyFile };
}

function flipByte(path: string, at: (size: number) => number): void {
  const bytes = readFileSync(path);
  const i = at(bytes.length);
  bytes[i] = bytes[i]! ^ 0x01;
  writeFileSync(path, bytes);
}

function swapContents(a: string, b: string): void {
  const x = readFileSync(a);
  writeFileSync(a, readFileSync(b));
  writeFileSync(b, x);
}

interface Expectation {
  /** What check's output (stdout and stderr) must mention: the damaged object, or that something is missing. */
  readonly names: RegExp;
  /** Which snapshot to restore afterwards, and what expected tree it has. */
  readonly restore?: { ref: () => string; digest: () => TreeDigest };
  /** Exit code of restore (4 unless the damage makes the key unusable, see the cases). */
  readonly restoreCode?: number;
  readonly checkCode?: number;
  /** Restore's own message must mention this. */
  readonly restoreNames?: RegExp;
}

const latest = { ref: () => 'latest', digest: () => digest2 };
/** Snapshot 1 is the one that needs every blob of the first backup's packs. */
const first = { ref: () => snap1, digest: () => digest1 };

async function expectDetected(repo: TestRepo, e: Expectation): Promise<void> {
  const r = e.restore ?? latest;
  const target = join(repo.path + '-target');
  // check and restore only read (both take shared locks), so they run side by side
  const [check, restore] = await Promise.all([
    runCli(['check', ...repoArgs(repo), '--read-data']),
    runCli(['restore', ...repoArgs(repo), r.ref(), '--target', target]),
  ]);
  assert.equal(check.code, e.checkCode ?? 4, `check --read-data: ${describeRun(check)}`);
  assert.match(check.stdout + check.stderr, e.names, `check names the damaged object: ${describeRun(check)}`);

  let digest: TreeDigest = new Map();
  try {
    digest = digestTree(target);
  } catch {
    // no target folder at all: nothing was written
  }
  assert.equal(restore.code, e.restoreCode ?? 4, `restore: ${describeRun(restore)}`);
  assert.match(restore.stderr, e.restoreNames ?? e.names, `restore names the problem: ${describeRun(restore)}`);
  assert.equal(restore.stdout, '', 'a failed restore reports no success');
  assertOnlyCompleteFiles(digest, r.digest(), 'after a failed restore');
  rmSync(repo.path, { recursive: true, force: true });
  rmSync(target, { recursive: true, force: true });
}

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const named = (rel: string) => new RegExp(esc(rel));

describe('packs in data/', () => {
  test('a flipped byte in a pack is named by check and stops restore', async () => {
    const repo = copyOf(pristine);
    flipByte(join(repo.path, packs1[0]!), (n) => Math.floor(n / 3));
    await expectDetected(repo, { names: named(packs1[0]!), restore: first });
  });

  test('a truncated pack is named by check and stops restore', async () => {
    const repo = copyOf(pristine);
    const p = join(repo.path, packs1[0]!);
    truncateSync(p, Math.floor(readFileSync(p).length / 2));
    await expectDetected(repo, { names: named(packs1[0]!), restore: first });
  });

  test('a deleted pack is reported missing by check and stops restore with exit 4', async () => {
    const repo = copyOf(pristine);
    unlinkSync(join(repo.path, packs1[0]!));
    await expectDetected(repo, { names: new RegExp(`${esc(packs1[0]!)}.*missing`), restore: first });
  });

  test('two packs with swapped contents are both named by check and stop restore', async () => {
    const repo = copyOf(pristine);
    swapContents(join(repo.path, packs1[0]!), join(repo.path, packs2[0]!));
    await expectDetected(repo, { names: new RegExp(`${esc(packs1[0]!)}[^]*${esc(packs2[0]!)}|${esc(packs2[0]!)}[^]*${esc(packs1[0]!)}`), restoreNames: /data\// });
  });

  test("an older pack's bytes under a newer pack's name are named by check and stop restore", async () => {
    const repo = copyOf(pristine);
    writeFileSync(join(repo.path, packs2[0]!), readFileSync(join(repo.path, packs1[0]!)));
    await expectDetected(repo, { names: named(packs2[0]!) });
  });
});

describe('index files', () => {
  test('a flipped byte in an index file is named by check and stops restore', async () => {
    const repo = copyOf(pristine);
    flipByte(join(repo.path, index1[0]!), (n) => Math.floor(n / 2));
    await expectDetected(repo, { names: named(index1[0]!) });
  });

  test('a truncated index file is named by check and stops restore', async () => {
    const repo = copyOf(pristine);
    truncateSync(join(repo.path, index1[0]!), 20);
    await expectDetected(repo, { names: named(index1[0]!) });
  });

  test('a deleted index file: check reports the data it listed as unindexed, restore stops', async () => {
    // Index files are named by their content and nothing else lists them, so
    // the deleted file's name cannot be known; what is detected is that the
    // data snapshots need is no longer indexed.
    const repo = copyOf(pristine);
    unlinkSync(join(repo.path, index1[0]!));
    await expectDetected(repo, { names: /no index lists it|missing from the index/ });
  });

  test('two index files with swapped contents are named by check and stop restore', async () => {
    const repo = copyOf(pristine);
    swapContents(join(repo.path, index1[0]!), join(repo.path, index2[0]!));
    await expectDetected(repo, { names: new RegExp(`${esc(index1[0]!)}|${esc(index2[0]!)}`) });
  });

  test('an index file from before prune, put back: check names it, restore still restores the intact data', async () => {
    // prune writes one index that lists the files it supersedes; a superseded
    // file put back is stale, not a second truth. The data is all there, so
    // restore must succeed exactly, and check must name the replayed file.
    const repo = copyOf(pruned);
    const current = new Set(objectsOf(repo.path, 'index'));
    const replayed = [...preservedIndex].filter(([rel]) => !current.has(rel));
    for (const [rel, bytes] of replayed) writeFileSync(join(repo.path, rel), bytes);
    const target = join(repo.path + '-target');
    const [check, restore] = await Promise.all([
      runCli(['check', ...repoArgs(repo), '--read-data']),
      runCli(['restore', ...repoArgs(repo), 'latest', '--target', target]),
    ]);
    assert.equal(check.code, 4, describeRun(check));
    for (const [rel] of replayed) assert.ok(check.stdout.includes(rel), `check names the replayed ${rel}: ${describeRun(check)}`);
    assert.equal(restore.code, 0, describeRun(restore));
    assertSameTree(digestTree(target), digest2, 'the restore');
  });

  test('an index file from before prune, put back, is detected by check (it lists packs that are gone)', async () => {
    const repo = copyOf(pruned);
    const current = new Set(objectsOf(repo.path, 'index'));
    for (const [rel, bytes] of preservedIndex) if (!current.has(rel)) writeFileSync(join(repo.path, rel), bytes);
    const check = await runCli(['check', ...repoArgs(repo), '--read-data']);
    assert.equal(check.code, 4, describeRun(check));
    assert.match(check.stdout, /superseded by a newer index and lists \d+ pack\(s\) that are gone/);
  });
});

describe('snapshots', () => {
  test('a flipped byte in a snapshot is named by check and stops restore', async () => {
    const repo = copyOf(pristine);
    flipByte(join(repo.path, 'snapshots', snap2), (n) => Math.floor(n / 2));
    await expectDetected(repo, { names: named(`snapshots/${snap2}`) });
  });

  test('a truncated snapshot is named by check and stops restore', async () => {
    const repo = copyOf(pristine);
    truncateSync(join(repo.path, 'snapshots', snap2), 30);
    await expectDetected(repo, { names: named(`snapshots/${snap2}`) });
  });

  test('two snapshots with swapped contents are named by check and stop restore', async () => {
    const repo = copyOf(pristine);
    swapContents(join(repo.path, 'snapshots', snap1), join(repo.path, 'snapshots', snap2));
    await expectDetected(repo, { names: new RegExp(`snapshots/(${snap1}|${snap2})`) });
  });

  test('a forgotten snapshot put back after prune is named by check and does not restore', async () => {
    const repo = copyOf(pruned);
    writeFileSync(join(repo.path, 'snapshots', snap1), readFileSync(join(pristine.path, 'snapshots', snap1)));
    await expectDetected(repo, { names: named(`snapshots/${snap1}`), restore: first, restoreNames: /missing|no index/ });
  });

  test('a deleted snapshot is indistinguishable from a forgotten one: the others still check and restore', async () => {
    // Snapshots are the roots of the repository; nothing else records which
    // exist, so deleting one is what `forget` does. What must hold: the rest
    // of the repository stays intact, and asking for the deleted one fails
    // clearly instead of restoring something else.
    const repo = copyOf(pristine);
    unlinkSync(join(repo.path, 'snapshots', snap1));
    const check = await runCli(['check', ...repoArgs(repo), '--read-data']);
    assert.equal(check.code, 0, describeRun(check));
    const gone = await runCli(['restore', ...repoArgs(repo), snap1, '--target', join(repo.path + '-t1')]);
    assert.equal(gone.code, 1, describeRun(gone));
    assert.match(gone.stderr, /No snapshot/);
    const target = join(repo.path + '-t2');
    await ok(['restore', ...repoArgs(repo), 'latest', '--target', target]);
    assert.deepEqual(digestTree(target), digest2);
  });
});

describe('key slots in keys/', () => {
  const ownSlot = async (repo: TestRepo) => {
    // the slot our key opens: the one that is not the second key's
    const run = await ok(['key', 'list', ...repoArgs(repo), '--json']);
    const list = JSON.parse(run.stdout) as Array<{ id: string; created: string }>;
    return `keys/${list.sort((a, b) => a.created.localeCompare(b.created))[0]!.id}`;
  };

  test('a flipped byte in the wrapped master key: the key is recognised, the slot is named as damaged (exit 4)', async () => {
    const repo = copyOf(pristine);
    const slot = await ownSlot(repo);
    const p = join(repo.path, slot);
    const body = JSON.parse(readFileSync(p, 'utf8')) as Record<string, string>;
    const w = Buffer.from(body.wrapped!, 'base64');
    w[20] = w[20]! ^ 0x01;
    writeFileSync(p, `${JSON.stringify({ ...body, wrapped: w.toString('base64') })}\n`);
    await expectDetected(repo, { names: named(slot) });
  });

  test('a flipped byte in the key check value: the key is no longer recognised (exit 3), nothing restored', async () => {
    // The check value is how a slot recognises its key. Damage to it cannot be
    // told apart from a different key (nothing else in the slot is keyed to K
    // without it), so the honest answer is "this key does not open it": exit 3.
    const repo = copyOf(pristine);
    const slot = await ownSlot(repo);
    const p = join(repo.path, slot);
    const body = JSON.parse(readFileSync(p, 'utf8')) as Record<string, string>;
    const c = Buffer.from(body.check!, 'base64');
    c[3] = c[3]! ^ 0x01;
    writeFileSync(p, `${JSON.stringify({ ...body, check: c.toString('base64') })}\n`);
    await expectDetected(repo, { names: /does not open/, checkCode: 3, restoreCode: 3 });
  });

  test('a truncated key slot is named by check, and the key of another slot still restores', async () => {
    const repo = copyOf(pristine);
    const own = await ownSlot(repo);
    const other = slots.find((s) => s !== own)!;
    truncateSync(join(repo.path, other), 40);
    const check = await runCli(['check', ...repoArgs(repo)]);
    assert.equal(check.code, 4, describeRun(check));
    assert.match(check.stdout, named(other), describeRun(check));
    const target = join(repo.path + '-target');
    await ok(['restore', ...repoArgs(repo), 'latest', '--target', target]);
    assertSameTree(digestTree(target), digest2, 'restored with the intact slot');
    rmSync(repo.path, { recursive: true, force: true });
    rmSync(target, { recursive: true, force: true });
  });

  test('the truncated slot of the key in use: exit 3, the hint names the damaged slot', async () => {
    const repo = copyOf(pristine);
    const own = await ownSlot(repo);
    truncateSync(join(repo.path, own), 40);
    const restore = await runCli(['restore', ...repoArgs(repo), 'latest', '--target', join(repo.path + '-target')]);
    assert.equal(restore.code, 3, describeRun(restore));
    assert.match(restore.stderr, named(own), describeRun(restore));
    rmSync(repo.path, { recursive: true, force: true });
  });

  test('two key slots with swapped contents are named and stop restore', async () => {
    const repo = copyOf(pristine);
    swapContents(join(repo.path, slots[0]!), join(repo.path, slots[1]!));
    await expectDetected(repo, { names: new RegExp(`${esc(slots[0]!)}|${esc(slots[1]!)}`) });
  });

  test("a deleted key slot: its key no longer opens the repository (exit 3); with every slot gone, exit 4", async () => {
    // Deleting a slot is what `chatsafe key remove` does: the key it held is
    // then, correctly, a key that does not open this repository (exit 3).
    // With no slot at all the repository is damaged beyond any key: exit 4.
    const repo = copyOf(pristine);
    unlinkSync(join(repo.path, await ownSlot(repo)));
    const one = await runCli(['check', ...repoArgs(repo), '--read-data']);
    assert.equal(one.code, 3, describeRun(one));
    assert.match(one.stderr, /does not open/);
    for (const rel of objectsOf(repo.path, 'keys')) unlinkSync(join(repo.path, rel));
    await expectDetected(repo, { names: /keys.*no key slots/ });
  });
});

describe('the config header', () => {
  test('a flipped byte in the header (still valid JSON) is detected through the slots binding it (exit 4)', async () => {
    const repo = copyOf(pristine);
    const p = join(repo.path, 'config');
    const text = readFileSync(p, 'utf8');
    const at = text.indexOf('"created": "') + '"created": "'.length + 3; // the last digit of the year
    flipByte(p, () => at);
    assert.notEqual(readFileSync(p, 'utf8'), text);
    await expectDetected(repo, { names: /config|repository header/ });
  });

  test('a flipped byte that breaks the header is named by check and stops restore', async () => {
    const repo = copyOf(pristine);
    const p = join(repo.path, 'config');
    flipByte(p, () => 0); // '{' becomes 'z': no longer JSON
    await expectDetected(repo, { names: /config/ });
  });

  test('a truncated header is named by check and stops restore', async () => {
    const repo = copyOf(pristine);
    truncateSync(join(repo.path, 'config'), 25);
    await expectDetected(repo, { names: /config/ });
  });

  test('a deleted header (objects still there) is reported missing, exit 4', async () => {
    const repo = copyOf(pristine);
    unlinkSync(join(repo.path, 'config'));
    await expectDetected(repo, { names: /config.*missing|missing.*config/i });
  });

  test("another repository's header in its place is detected (exit 4)", async () => {
    const repo = copyOf(pristine);
    const other = await initRepo(tmp.path, `other-${caseNo}`);
    writeFileSync(join(repo.path, 'config'), readFileSync(join(other.path, 'config')));
    await expectDetected(repo, { names: /config|repository header/ });
  });
});
