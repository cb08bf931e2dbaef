/**
 * Killing CLI processes (SIGKILL, no chance to clean up) at chosen moments of
 * their work. Moments are measured from when the process takes its
 * repository lock, i.e. from when it starts touching the repository, so the
 * points spread over the real work and not over Node's start-up.
 */
import assert from 'node:assert/strict';
import { cpSync, rmSync } from 'node:fs';
import { collect, describeRun, spawnCli, type CliRun } from '../helpers/cli.js';
import { hasLock, waitFor } from './scenario.js';

export interface Timing {
  /** From spawn until the lock appeared. */
  readonly toLockMs: number;
  /** From the lock appearing until the process exited. */
  readonly workMs: number;
}

/** One uninterrupted run, timed; it must succeed. */
export async function measure(args: readonly string[], repoPath: string): Promise<Timing> {
  const started = Date.now();
  const child = spawnCli(args);
  const done = collect(child);
  await waitFor(() => hasLock(repoPath), 60_000, 'the lock of the measured run');
  const locked = Date.now();
  const run = await done;
  assert.equal(run.code, 0, `the measured run succeeds: ${describeRun(run)}`);
  return { toLockMs: locked - started, workMs: Date.now() - locked };
}

/** `n` fractions spread evenly from `from` to `to` (inclusive). */
export function spread(n: number, from = 0.05, to = 1): number[] {
  return Array.from({ length: n }, (_, i) => from + ((to - from) * i) / (n - 1));
}

/**
 * Runs the CLI and SIGKILLs it `afterLockMs` after it took its lock. Returns
 * whether the kill landed (false: the run ended first, on its own) and, when
 * it did not, how long the run worked after taking its lock: callers scale
 * their next kills to it, since a machine busy during `measure` and idle now
 * (or the reverse) would otherwise send every later kill past the end.
 */
export async function runAndKill(args: readonly string[], repoPath: string, afterLockMs: number): Promise<{ killed: boolean; run: CliRun; workMs: number }> {
  const child = spawnCli(args);
  const done = collect(child);
  let exited = false;
  void done.then(() => (exited = true));
  await waitFor(() => exited || hasLock(repoPath), 60_000, 'the run to take its lock');
  const locked = Date.now();
  if (!exited) {
    await Promise.race([new Promise((r) => setTimeout(r, afterLockMs)), done]);
    if (!exited) child.kill('SIGKILL');
  }
  const run = await done;
  return { killed: run.signal === 'SIGKILL', run, workMs: Date.now() - locked };
}

/** Replaces `target` with a copy of `source`. */
export function resetTo(source: string, target: string): void {
  rmSync(target, { recursive: true, force: true });
  cpSync(source, target, { recursive: true });
}
