/**
 * Running the built `chatsafe` CLI as a real process (stdin closed, output
 * captured), and temporary folders that are always removed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI_BIN, CLI_ENV, CLI_NODE_OPTIONS } from './fixtures.js';

export interface CliRun {
  /** Exit code, or null when the process was ended by a signal. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliOptions {
  /** Added to the environment; a value of undefined removes the variable. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly cwd?: string;
  /** The process is killed (SIGKILL) after this long; the test then fails on its exit code. */
  readonly timeoutMs?: number;
}

/** Variables of the caller's environment that would change what the CLI does. */
const CLEARED = ['CHATSAFE_KEY', 'CHATSAFE_PASSWORD', 'CHATSAFE_REPO', 'CHATSAFE_DEBUG'];

function cliEnv(extra: CliOptions['env']): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...CLI_ENV };
  for (const name of CLEARED) delete env[name];
  for (const [name, value] of Object.entries(extra ?? {})) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return env;
}

/** Starts `node [the #! line's options] bin/chatsafe.js ARGS`, with the #! line's variables and stdin closed; the caller owns the process. */
export function spawnCli(args: readonly string[], opts: CliOptions = {}): ChildProcess {
  return spawn(process.execPath, [...CLI_NODE_OPTIONS, CLI_BIN, ...args], { env: cliEnv(opts.env), cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Waits for a spawned CLI process and collects its output. */
export function collect(child: ChildProcess, timeoutMs = 120_000): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/**
 * dist/ is rebuilt by other work in the same checkout; a CLI that starts in
 * the middle of a rebuild fails to load its modules. That is not the
 * behaviour under test, so such a start is retried.
 */
function isRebuildArtifact(run: CliRun): boolean {
  return run.code === 1 && /ERR_MODULE_NOT_FOUND|Cannot find module|SyntaxError: |does not provide an export named/.test(run.stderr) && !/^chatsafe /m.test(run.stderr);
}

/** Runs the CLI to completion. */
export async function runCli(args: readonly string[], opts: CliOptions = {}): Promise<CliRun> {
  for (let attempt = 0; ; attempt++) {
    const run = await collect(spawnCli(args, opts), opts.timeoutMs);
    if (attempt < 5 && isRebuildArtifact(run)) {
      await new Promise((r) => setTimeout(r, 2000));
      continue;
    }
    return run;
  }
}

/** A one-line description of a run, for assertion messages. */
export function describeRun(run: CliRun): string {
  return `exit ${run.code}${run.signal ? ` (${run.signal})` : ''}\nstdout: ${run.stdout.slice(0, 2000)}\nstderr: ${run.stderr.slice(0, 2000)}`;
}

export interface TempDir {
  readonly path: string;
  remove(): void;
}

/** A new empty folder under the system temp folder; `remove` deletes it and everything in it. */
export function makeTempDir(prefix: string): TempDir {
  const path = mkdtempSync(join(tmpdir(), `chatsafe-${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** Runs `fn` with a fresh temp folder and removes the folder afterwards, whatever happens. */
export async function withTempDir<T>(prefix: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = makeTempDir(prefix);
  try {
    return await fn(dir.path);
  } finally {
    dir.remove();
  }
}
