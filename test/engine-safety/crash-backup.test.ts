/**
 * kill -9 at 20 points of a backup: after every kill the previous snapshot
 * and whatever is now the latest restore byte for byte, and after all of
 * them a full backup completes and `check --read-data` passes.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describeRun, makeTempDir } from '../helpers/cli.js';
import { assertSameTree, backupOf, chatLikeSpec, digestTree, initRepo, ok, repoArgs, underName, writeTree, type TestRepo } from './scenario.js';
import { measure, resetTo, runAndKill, spread } from './crash.js';

const KILLS = 20;
const tmp = makeTempDir('crash-backup');
after(() => tmp.remove());

test('kill -9 at 20 points of a backup: the previous and the latest snapshot always restore exactly; then backup and check --read-data pass', { timeout: 600_000 }, async (ctx) => {
  const src = join(tmp.path, 'phone-export');
  writeTree(src, chatLikeSpec(3_000_000), 'before');
  const digestBefore = underName(digestTree(src), 'phone-export');
  const pristine = await initRepo(tmp.path, 'pristine');
  const previous = await backupOf(pristine, [src]);

  // The export grows and changes: new content of about 32 MB in several files.
  rmSync(src, { recursive: true });
  writeTree(src, { ...chatLikeSpec(30_000_000), random: { ...chatLikeSpec(30_000_000).random, 'Media/Video/VID-1.mp4': 2_000_000 } }, 'after');
  const digestAfter = underName(digestTree(src), 'phone-export');

  const work: TestRepo = { path: join(tmp.path, 'work'), keyFile: pristine.keyFile };
  // keep-last 3: at most two new snapshots arise between resets, so the previous one always stays
  const backupArgs = ['backup', ...repoArgs(work), '--keep-last', '3', src];
  resetTo(pristine.path, work.path);
  const timing = await measure(backupArgs, work.path);

  let landed = 0;
  let withNewSnapshot = 0;
  let workMs = timing.workMs;
  const points = spread(KILLS);
  // Timing varies with the machine's load: runs that finish before their kill
  // are followed by more attempts, earlier in the run, until 20 kills landed,
  // and the kills after such a run are scaled to the time it took.
  for (let i = 0; landed < KILLS && i < 2 * KILLS; i++) {
    const fraction = i < KILLS ? points[i]! : 0.05 + (0.7 * ((i * 37) % 20)) / 20;
    // every other run starts from the pristine repository; the others continue
    // from what the previous kill left behind (packs without index, stale lock)
    if (i % 2 === 0) resetTo(pristine.path, work.path);
    const attempt = await runAndKill(backupArgs, work.path, Math.round(fraction * workMs));
    const { killed, run } = attempt;
    if (killed) landed++;
    else {
      assert.equal(run.code, 0, `a run that was not killed completes: ${describeRun(run)}`);
      workMs = Math.min(workMs, attempt.workMs);
    }

    const snapshots = readdirSync(join(work.path, 'snapshots')).filter((n) => /^[0-9a-f]{64}$/.test(n));
    assert.ok(snapshots.includes(previous), `kill ${i + 1} (${Math.round(fraction * 100)}%): the previous snapshot is still there`);
    const restores: Array<Promise<void>> = [];
    const t1 = join(tmp.path, `t-prev-${i}`);
    restores.push(ok(['restore', ...repoArgs(work), previous, '--target', t1]).then(() => assertSameTree(digestTree(t1), digestBefore, `kill ${i + 1}: the previous snapshot`)));
    if (snapshots.length > 1) {
      withNewSnapshot++;
      const t2 = join(tmp.path, `t-latest-${i}`);
      restores.push(ok(['restore', ...repoArgs(work), 'latest', '--target', t2]).then(() => assertSameTree(digestTree(t2), digestAfter, `kill ${i + 1}: the latest snapshot`)));
    }
    await Promise.all(restores);
    for (const t of [t1, join(tmp.path, `t-latest-${i}`)]) if (existsSync(t)) rmSync(t, { recursive: true });
  }
  assert.equal(landed, KILLS, `${KILLS} kills landed during a backup`);
  assert.ok(withNewSnapshot < KILLS, 'some kills came before the new snapshot existed');

  const id = await backupOf(work, [src], ['--keep-last', '3']);
  const check = await ok(['check', ...repoArgs(work), '--read-data']);
  assert.match(check.stdout, /No problems found/);
  const t = join(tmp.path, 't-final');
  await ok(['restore', ...repoArgs(work), id, '--target', t]);
  assertSameTree(digestTree(t), digestAfter, 'the backup after the kills');
  ctx.diagnostic(`backup work ${timing.workMs} ms (${workMs} ms at the end) after ${timing.toLockMs} ms start-up; ${landed} kills landed, ${withNewSnapshot} after the new snapshot was written`);
});
