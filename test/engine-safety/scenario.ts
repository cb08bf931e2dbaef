/**
 * Shared pieces of the engine safety tests: deterministic source trees,
 * digests of folders (what a byte-for-byte restore must reproduce), a
 * repository made through the real CLI, and the repository's objects as
 * paths relative to it (the names `check` is expected to print).
 */
import assert from 'node:assert/strict';
import { createCipheriv, createHash } from 'node:crypto';
import { closeSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, symlinkSync, writeSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describeRun, runCli, type CliRun } from '../helpers/cli.js';

/** Incompressible bytes, the same for the same seed (AES-CTR over zeros). */
export function seededBytes(seed: string, length: number): Buffer {
  return createCipheriv('aes-256-ctr', createHash('sha256').update(seed).digest(), Buffer.alloc(16)).update(Buffer.alloc(length));
}

/** Writes `size` seeded bytes to `path` in blocks (never all in memory). */
export function writeSeededFile(path: string, seed: string, size: number): void {
  mkdirSync(dirname(path), { recursive: true });
  const fd = openSync(path, 'w');
  try {
    const block = 1 << 20;
    const c = createCipheriv('aes-256-ctr', createHash('sha256').update(seed).digest(), Buffer.alloc(16));
    const zeros = Buffer.alloc(block);
    for (let done = 0; done < size; done += block) writeSync(fd, c.update(zeros.subarray(0, Math.min(block, size - done))));
  } finally {
    closeSync(fd);
  }
}

export interface TreeSpec {
  /** Relative path → size of seeded random content. */
  readonly random?: Readonly<Record<string, number>>;
  /** Relative path → text content. */
  readonly text?: Readonly<Record<string, string>>;
  /** Relative path → link target. */
  readonly symlinks?: Readonly<Record<string, string>>;
}

/** Creates the files of `spec` under `root`; `seed` varies the random content. */
export function writeTree(root: string, spec: TreeSpec, seed: string): void {
  mkdirSync(root, { recursive: true });
  for (const [rel, size] of Object.entries(spec.random ?? {})) writeSeededFile(join(root, rel), `${seed}/${rel}`, size);
  for (const [rel, text] of Object.entries(spec.text ?? {})) {
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    const fd = openSync(join(root, rel), 'w');
    writeSync(fd, text);
    closeSync(fd);
  }
  for (const [rel, target] of Object.entries(spec.symlinks ?? {})) {
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    symlinkSync(target, join(root, rel));
  }
}

/** A small chat-export-like tree: unicode names, nested folders, a symlink, text and random media. */
export function chatLikeSpec(mediaBytes: number): TreeSpec {
  const n = 4;
  const random: Record<string, number> = {};
  for (let i = 0; i < n; i++) random[`Media/WhatsApp Images/IMG-2024010${i}-WA000${i}.jpg`] = Math.floor(mediaBytes / n) + i * 4099;
  random['Databases/msgstore.db'] = 300_000;
  return {
    random,
    text: {
      'Chats/Ünïcødé 聊天 💬.txt': '12/01/2024, 09:15 - Ana: Olá! Tudo bem? 😊\n12/01/2024, 09:16 - Bo: Jā, viss kārtībā.\n'.repeat(200),
      'Chats/nested/deeper/deepest/notes — ñ.txt': 'deep note\n',
      'empty.txt': '',
    },
    symlinks: { 'Chats/latest-chat': 'Ünïcødé 聊天 💬.txt' },
  };
}

export type TreeDigest = Map<string, string>;

/** relPath → "file <sha256> <mode>", "dir", or "link <target>", for every entry under root. */
export function digestTree(root: string): TreeDigest {
  const out: TreeDigest = new Map();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      const rel = relative(root, p);
      const st = lstatSync(p);
      if (st.isSymbolicLink()) out.set(rel, `link ${readlinkSync(p)}`);
      else if (st.isDirectory()) {
        out.set(rel, 'dir');
        walk(p);
      } else if (st.isFile()) out.set(rel, `file ${createHash('sha256').update(readFileSync(p)).digest('hex')} ${(st.mode & 0o7777).toString(8)}`);
      else out.set(rel, 'other');
    }
  };
  walk(root);
  return out;
}

/** The digest of `source` as it appears inside a restore target (under the source folder's name). */
export function underName(digest: TreeDigest, name: string): TreeDigest {
  const out: TreeDigest = new Map([[name, 'dir']]);
  for (const [rel, v] of digest) out.set(join(name, rel), v);
  return out;
}

export function assertSameTree(actual: TreeDigest, expected: TreeDigest, what: string): void {
  const diff: string[] = [];
  for (const [rel, v] of expected) if (actual.get(rel) !== v) diff.push(`${rel}: expected ${v}, got ${actual.get(rel) ?? 'nothing'}`);
  for (const rel of actual.keys()) if (!expected.has(rel)) diff.push(`${rel}: unexpected`);
  assert.deepEqual(diff, [], `${what} differs from the source:\n${diff.slice(0, 20).join('\n')}`);
}

/**
 * After a failed restore: every file in the target is a complete, exact copy
 * of the source file at the same path (so nothing unauthenticated or partial
 * was written), and no temporary file is left. Returns how many files exist.
 */
export function assertOnlyCompleteFiles(target: TreeDigest, expected: TreeDigest, what: string): number {
  let files = 0;
  for (const [rel, v] of target) {
    assert.ok(!/\.chatsafe-restoring-|\.partial|\.tmp-/.test(rel), `${what}: temporary file left in the target: ${rel}`);
    if (v.startsWith('file ')) {
      files++;
      assert.equal(v, expected.get(rel), `${what}: ${rel} in the target is not an exact copy of the source file`);
    }
  }
  return files;
}

export interface TestRepo {
  readonly path: string;
  readonly keyFile: string;
}

/** Runs a CLI command that must succeed; returns its output. */
export async function ok(args: readonly string[], env?: Record<string, string | undefined>): Promise<CliRun> {
  const run = await runCli(args, { env });
  assert.equal(run.code, 0, `chatsafe ${args.join(' ')} should succeed: ${describeRun(run)}`);
  return run;
}

/** `chatsafe init` with the key written to a file beside the repository. */
export async function initRepo(dir: string, name = 'repo'): Promise<TestRepo> {
  const repo = { path: join(dir, name), keyFile: join(dir, `${name}.key`) };
  await ok(['init', '--repo', repo.path, '--key-file', repo.keyFile]);
  return repo;
}

/** `chatsafe backup`; returns the new snapshot id. */
export async function backupOf(repo: TestRepo, sources: readonly string[], extra: readonly string[] = []): Promise<string> {
  const run = await ok(['backup', '--repo', repo.path, '--key-file', repo.keyFile, ...extra, ...sources]);
  const id = run.stdout.trim();
  assert.match(id, /^[0-9a-f]{64}$/, `backup prints the snapshot id: ${describeRun(run)}`);
  return id;
}

export function repoArgs(repo: TestRepo): string[] {
  return ['--repo', repo.path, '--key-file', repo.keyFile];
}

export type ObjectKind = 'data' | 'index' | 'snapshots' | 'keys';

/** Objects of one kind as paths relative to the repository (`data/ab/ab12…`, `index/…`), sorted. */
export function objectsOf(repoPath: string, kind: ObjectKind): string[] {
  const base = join(repoPath, kind);
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (lstatSync(p).isDirectory()) walk(p);
      else if (/^[0-9a-f]{32,64}$/.test(name)) out.push(relative(repoPath, p));
    }
  };
  walk(base);
  return out;
}

export async function snapshotIds(repo: TestRepo): Promise<string[]> {
  const run = await ok(['snapshots', ...repoArgs(repo), '--json']);
  return (JSON.parse(run.stdout) as Array<{ id: string }>).map((s) => s.id);
}

/** Polls `condition` every 20 ms until it holds; fails after `timeoutMs`. */
export async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Whether the repository holds a lock (a writer or reader is at work). */
export function hasLock(repoPath: string): boolean {
  try {
    return readdirSync(join(repoPath, 'locks')).some((n) => /^[0-9a-f]{32}$/.test(n));
  } catch {
    return false;
  }
}
