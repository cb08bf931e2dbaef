/**
 * kill -9 at 20 points of a prune that has real work (packs to delete, packs
 * to rewrite, index files to merge): after every kill every remaining
 * snapshot restores byte for byte, and a final prune and `check --read-data`
 * pass.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describeRun, makeTempDir } from '../helpers/cli.js';
import { assertSameTree, backupOf, digestTree, initRepo, objectsOf, ok, repoArgs, underName, writeSeededFile, writeTree, type TestRepo } from './scenario.js';
import { measure, resetTo, runAndKill, spread } from './crash.js';

const KILLS = 20;
const FILE_BYTES = 2_500_000;
const tmp = makeTempDir('crash-prune');
after(() => tmp.remove());

test('kill -9 at 20 points of a prune: every remaining snapshot always restores exactly; then prune and check --read-data pass', { timeout: 600_000 }, async (ctx) => {
  const src = join(tmp.path, 'chats');
  writeTree(src, { text: { 'Chats/Ünïcødé 💬.txt': 'hi\n'.repeat(1000) }, symlinks: { 'current': 'Chats/Ünïcødé 💬.txt' } }, 'prune');
  const pristine = await initRepo(tmp.path, 'pristine');
  // four generations; each drops one old file and adds a new one, so the
  // packs of the older ones end up partly used (rewritten) or unused (deleted)
  for (let f = 1; f <= 4; f++) writeSeededFile(join(src, 'Media', `file-${f}.bin`), `gen1/${f}`, FILE_BYTES);
  await backupOf(pristine, [src], ['--keep-last', '3']);
  for (let gen = 2; gen <= 4; gen++) {
    rmSync(join(src, 'Media', `file-${gen - 1}.bin`));
    writeSeededFile(join(src, 'Media', `file-${gen + 3}.bin`), `gen${gen}`, FILE_BYTES);
    await backupOf(pristine, [src], ['--keep-last', '3']);
  }
  const digest = underName(digestTree(src), 'chats');
  await ok(['forget', ...repoArgs(pristine), '--keep-last', '1']);
  const packsBefore = objectsOf(pristine.path, 'data').length;
  const indexBefore = objectsOf(pristine.path, 'index').length;

  const work: TestRepo = { path: join(tmp.path, 'work'), keyFile: pristine.keyFile };
  const pruneArgs = ['prune', ...repoArgs(work), '--json'];
  // the shortest of three runs, so that kill points fall inside the work even when the machine gets less busy
  let timing = { toLockMs: 0, workMs: Infinity };
  for (let m = 0; m < 3; m++) {
    resetTo(pristine.path, work.path);
    const t = await measure(pruneArgs, work.path);
    if (t.workMs < timing.workMs) timing = t;
  }
  assert.ok(objectsOf(work.path, 'data').length < packsBefore, 'the uninterrupted prune removed packs (it has real work)');
  assert.ok(objectsOf(work.path, 'index').length < indexBefore || indexBefore === 1, 'and merged index files');

  // Every kill starts from the pristine repository (a resumed prune has less
  // work, so later points would fall after its end), except that each pair
  // of points is killed in a row, so the second run starts from the debris
  // of the first (half-written index, packs already rewritten).
  // A point that falls after the end of a run (timing varies on a busy
  // machine) is verified too, and replaced by an earlier one, until KILLS
  // kills have landed.
  const points = spread(KILLS, 0.03, 0.9);
  let landed = 0;
  for (let i = 0; landed < KILLS && i < KILLS + 20; i++) {
    if (i % 2 === 0) resetTo(pristine.path, work.path);
    const fraction = points[i] ?? points[i % KILLS]! / 4;
    const { killed, run } = await runAndKill(pruneArgs, work.path, Math.round((i % 2 === 0 ? fraction : fraction / 2) * timing.workMs));
    if (killed) landed++;
    else assert.equal(run.code, 0, `a prune that was not killed completes: ${describeRun(run)}`);
    const snapshots = readdirSync(join(work.path, 'snapshots')).filter((n) => /^[0-9a-f]{64}$/.test(n));
    assert.equal(snapshots.length, 1, 'prune never adds or removes snapshots');
    await Promise.all(
      snapshots.map(async (id) => {
        const t = join(tmp.path, `t-${i}-${id.slice(0, 8)}`);
        await ok(['restore', ...repoArgs(work), id, '--target', t]);
        assertSameTree(digestTree(t), digest, `run ${i + 1} (${Math.round(fraction * 100)}%): snapshot ${id.slice(0, 8)}`);
        rmSync(t, { recursive: true });
      }),
    );
  }
  assert.equal(landed, KILLS, `${KILLS} kills landed during a prune`);

  await ok(['prune', ...repoArgs(work)]);
  const check = await ok(['check', ...repoArgs(work), '--read-data']);
  assert.match(check.stdout, /No problems found/);
  assert.doesNotMatch(check.stdout, /warning/, 'no unreferenced packs are left after the final prune');
  ctx.diagnostic(`prune work ${timing.workMs} ms after ${timing.toLockMs} ms start-up; ${landed} kills landed`);
});
