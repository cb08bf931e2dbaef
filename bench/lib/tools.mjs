// The two backup tools the benchmark drives, behind one shape:
//   { name, version(), init(), backup(source), restore(target), restoredRoot(target, source) }
// Every step that is timed is exactly one command a user would type; anything else (init, sanity
// checks) runs untimed. Both tools get a fresh repository under the same work folder.
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { basename, delimiter, dirname, join } from 'node:path';
import { runMeasured } from './measure.mjs';

/** A failed tool command: the benchmark stops, showing the tool's own words. */
function check(result, what) {
  if (result.code !== 0) {
    const tail = (result.stderr || result.stdout).trim().split('\n').slice(-15).join('\n');
    throw new Error(`${what} failed with exit code ${result.code}:\n${tail}`);
  }
  return result;
}

function runQuiet(command, args, env, what) {
  const r = spawnSync(command, args, { env, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error) throw new Error(`${what}: ${r.error.message}`);
  return check({ code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr }, what);
}

/**
 * The environment each tool runs in: what a user's shell would give it (paths, home, language), and
 * nothing of the machine the benchmark runs on. Settings there tilt the comparison one way: this
 * machine's NODE_EXTRA_CA_CERTS made every node process start 50-70 ms later (it reads a bundle of
 * certificates first), which restic, a Go program, never paid; NODE_OPTIONS or GOGC would do the same.
 */
const KEPT_VARIABLES = ['PATH', 'HOME', 'USER', 'LANG', 'LC_ALL', 'LC_CTYPE', 'TMPDIR', 'TERM'];

export function toolEnvironment(extra) {
  const env = {};
  for (const name of KEPT_VARIABLES) if (process.env[name] !== undefined) env[name] = process.env[name];
  return { ...env, ...extra };
}

/**
 * Where a tool put the restored copy of `source` inside `target`: tools either restore the folder by
 * its name (target/WhatsApp) or under its full original path (target/abs/path/WhatsApp, restic).
 */
export function restoredRoot(target, source) {
  for (const candidate of [join(target, source), join(target, basename(source))]) {
    if (existsSync(candidate)) return candidate;
  }
  throw new Error(`restore produced neither ${join(target, basename(source))} nor ${join(target, source)}`);
}

/** restic with its defaults (repository format 2, compression auto), its cache inside the work folder. */
export function restic({ workDir, binary = '/usr/bin/restic' }) {
  const repo = join(workDir, 'repo-restic');
  const cache = join(workDir, 'cache-restic');
  // A benchmark-only password: the repository is deleted when the run ends.
  const env = toolEnvironment({ RESTIC_PASSWORD: 'chatsafe-bench-password' });
  const common = ['--repo', repo, '--cache-dir', cache];
  return {
    name: 'restic',
    repo,
    version: () => runQuiet(binary, ['version'], env, 'restic version').stdout.trim(),
    init() {
      rmSync(repo, { recursive: true, force: true });
      rmSync(cache, { recursive: true, force: true });
      runQuiet(binary, [...common, 'init'], env, 'restic init');
      const config = JSON.parse(runQuiet(binary, [...common, 'cat', 'config'], env, 'restic cat config').stdout);
      return { repositoryVersion: config.version };
    },
    async backup(source) {
      const r = check(await runMeasured(binary, [...common, 'backup', source], { env }), 'restic backup');
      const id = /snapshot ([0-9a-f]+) saved/.exec(r.stdout)?.[1];
      if (!id) throw new Error(`restic backup printed no snapshot id:\n${r.stdout.slice(-2000)}`);
      return { ...r, snapshot: id };
    },
    async restore(target) {
      return check(await runMeasured(binary, [...common, 'restore', 'latest', '--target', target], { env }), 'restic restore');
    },
    snapshotCount() {
      return JSON.parse(runQuiet(binary, [...common, 'snapshots', '--json'], env, 'restic snapshots').stdout).length;
    },
    cleanup() {
      rmSync(repo, { recursive: true, force: true });
      rmSync(cache, { recursive: true, force: true });
    },
  };
}

/** chatsafe from this checkout (`bin/chatsafe.js`), with its defaults and a key file; its index cache inside the work folder, like restic's. */
export function chatsafe({ workDir, repoRoot }) {
  const repo = join(workDir, 'repo-chatsafe');
  const keyFile = join(workDir, 'chatsafe.key');
  const cache = join(workDir, 'cache-chatsafe');
  // The bin itself is the command, as for a user's `chatsafe`: its `#!` line (and any options it gives
  // node) applies. `env` finds the node running the bench first on PATH.
  const bin = join(repoRoot, 'bin', 'chatsafe.js');
  const env = toolEnvironment({ CHATSAFE_CACHE_DIR: cache, PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}` });
  const keyArgs = ['--repo', repo, '--key-file', keyFile];
  return {
    name: 'chatsafe',
    repo,
    version: () => runQuiet(bin, ['--version'], env, 'chatsafe --version').stdout.trim(),
    /** Which of the commands the benchmark needs are missing from `chatsafe --help` (empty when ready). */
    missingCommands() {
      const r = spawnSync(bin, ['--help'], { env, encoding: 'utf8' });
      const help = `${r.stdout}\n${r.stderr}`;
      return ['init', 'backup', 'restore', 'snapshots'].filter((c) => !new RegExp(`^\\s+${c}\\b`, 'm').test(help));
    },
    init() {
      rmSync(repo, { recursive: true, force: true });
      rmSync(cache, { recursive: true, force: true });
      rmSync(keyFile, { force: true });
      runQuiet(bin, ['init', '--repo', repo, '--key-file', keyFile], env, 'chatsafe init');
      return {};
    },
    async backup(source) {
      const r = check(await runMeasured(bin, ['backup', ...keyArgs, '--json', source], { env }), 'chatsafe backup');
      let doc;
      try {
        doc = JSON.parse(r.stdout);
      } catch {
        throw new Error(`chatsafe backup --json printed no JSON document:\n${r.stdout.slice(-2000)}`);
      }
      const id = doc?.snapshot?.id;
      if (typeof id !== 'string' || id.length === 0) throw new Error('chatsafe backup --json has no .snapshot.id');
      return { ...r, snapshot: id };
    },
    async restore(target) {
      return check(await runMeasured(bin, ['restore', ...keyArgs, 'latest', '--target', target], { env }), 'chatsafe restore');
    },
    snapshotCount() {
      const doc = JSON.parse(runQuiet(bin, ['snapshots', ...keyArgs, '--json'], env, 'chatsafe snapshots').stdout);
      const list = Array.isArray(doc) ? doc : doc.snapshots;
      if (!Array.isArray(list)) throw new Error('chatsafe snapshots --json is neither a list nor { snapshots: [...] }');
      return list.length;
    },
    cleanup() {
      rmSync(repo, { recursive: true, force: true });
      rmSync(cache, { recursive: true, force: true });
      rmSync(keyFile, { force: true });
    },
  };
}
