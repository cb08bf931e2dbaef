#!/usr/bin/env node
// Chatsafe against restic on the deterministic reference export, in one run (see bench/README.md).
//
//   npm run bench [-- --size 1G|3G|… --rounds N --seed S --tools chatsafe,restic --keep]
//
// For each tool and round: fresh repository; first backup; unchanged second backup; msgstore.db
// grows by 1% (on the working copy); backup; restore of the latest snapshot into an empty folder,
// verified file by file with sha256 against the source. Prints a table, the target verdicts, and as
// its last line one JSON object with every figure.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, linkSync, mkdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { comparePages, growChatDb } from './lib/chat-db.mjs';
import { pageFaultMicros } from './lib/machine-probe.mjs';
import { DATABASE_PATH, DEFAULT_SEED, ensureExport, parseSize } from './lib/generate-export.mjs';
import { buildResult, formatTable } from './lib/report.mjs';
import { chatsafe, restic, restoredRoot } from './lib/tools.mjs';
import { diffTrees, diskUsage, hashFile, hashTree, treeDigest } from './lib/tree.mjs';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const round1 = (x) => Math.round(x * 10) / 10;
const log = (line) => console.error(`[bench] ${line}`);

function parseArgs(argv) {
  const opts = { size: '1G', seed: DEFAULT_SEED, rounds: 2, tools: ['restic', 'chatsafe'], keep: false, out: join(REPO_ROOT, 'bench', 'out') };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${arg} needs a value`);
      return argv[++i];
    };
    if (arg === '--size') opts.size = value().toUpperCase();
    else if (arg === '--seed') opts.seed = value();
    else if (arg === '--rounds') opts.rounds = Number(value());
    else if (arg === '--tools') opts.tools = value().split(',').map((t) => t.trim());
    else if (arg === '--out') opts.out = resolve(value());
    else if (arg === '--keep') opts.keep = true;
    else if (arg === '--help' || arg === '-h') opts.help = true;
    else throw new Error(`unknown argument ${arg} (see --help)`);
  }
  if (!Number.isInteger(opts.rounds) || opts.rounds < 1 || opts.rounds > 20) throw new Error('--rounds must be an integer from 1 to 20');
  const unknown = opts.tools.filter((t) => t !== 'restic' && t !== 'chatsafe');
  if (unknown.length > 0 || opts.tools.length === 0) throw new Error(`--tools takes chatsafe and/or restic, got ${opts.tools.join(',')}`);
  if (!/^[A-Za-z0-9._-]+$/.test(opts.seed)) throw new Error('--seed may only hold letters, digits, dot, dash and underscore');
  return opts;
}

const USAGE = `Usage: npm run bench [-- OPTIONS]
  --size 1G        export size (200M, 1G, 3G, …; binary units)        default 1G
  --rounds N       repeat, alternating which tool goes first           default 2
  --seed S         generator seed                                      default ${DEFAULT_SEED}
  --tools LIST     chatsafe,restic (or one of them)                    default both
  --out DIR        cache and work folder                               default bench/out
  --keep           keep the last repositories and restores in DIR/work`;

function syncDisks() {
  spawnSync('sync');
}

/**
 * The folder both tools back up: the same absolute path for both. Media are hard links to the cached
 * export (no tool writes to its source, and the export's bytes are verified before every tool);
 * msgstore.db is a real copy because the +1% step changes it.
 */
function prepareSource(exportRoot, manifest, sourceParent) {
  rmSync(sourceParent, { recursive: true, force: true });
  for (const { path } of manifest.files) {
    const from = join(exportRoot, path);
    const to = join(sourceParent, path);
    mkdirSync(dirname(to), { recursive: true });
    if (path === DATABASE_PATH) {
      copyFileSync(from, to);
      const st = statSync(from);
      utimesSync(to, st.atime, st.mtime);
    } else {
      linkSync(from, to);
    }
  }
  return join(sourceParent, 'WhatsApp');
}

/** Bytes on disk of the tool's repository, after a step. */
function repoSize(tool) {
  const { disk, apparent } = diskUsage(tool.repo);
  return { repoBytes: disk, repoApparentBytes: apparent };
}

async function timedStep(name, tool, bytes, action) {
  syncDisks();
  log(`${tool.name}: ${name}…`);
  const r = await action();
  log(`${tool.name}: ${name} took ${r.seconds.toFixed(2)} s`);
  return { seconds: r.seconds, cpuSeconds: r.cpuSeconds, peakRssBytes: r.peakRssBytes, processes: r.processes, bytes, snapshot: r.snapshot, ...repoSize(tool) };
}

/** One tool's full sequence on a fresh copy of the export. Throws when a restore is not identical. */
async function runTool(tool, { exportRoot, manifest, workDir, seed, keep, round }) {
  const sourceParent = join(workDir, 'source');
  // Restores stay until the run ends: deleting one frees thousands of inodes, and ext4 then makes
  // every file created afterwards step past each of them (`recently_deleted`; its window is 30 s,
  // but the slowdown was seen for many minutes), so the tool that ran after a deletion restored up
  // to twice as slowly as one that did not.
  const target = join(workDir, `restore-${tool.name}-${round + 1}`);
  const source = prepareSource(exportRoot, manifest, sourceParent);
  // The warming read: every byte of the source once, checked against the manifest.
  log(`${tool.name}: reading the source once (page cache warm-up and check against the manifest)…`);
  const baseEntries = hashTree(sourceParent);
  if (treeDigest(baseEntries) !== manifest.sha256) throw new Error(`the source copy differs from the export manifest; delete ${dirname(exportRoot)} to regenerate it`);
  const baseBytes = manifest.totalBytes;
  const initInfo = tool.init();
  const steps = {};
  steps.backup = await timedStep('first backup', tool, baseBytes, () => tool.backup(source));
  steps.rebackup = await timedStep('unchanged backup', tool, baseBytes, () => tool.backup(source));

  const dbPath = join(sourceParent, DATABASE_PATH);
  const grown = growChatDb({ file: dbPath, fraction: 0.01, seed });
  const pages = comparePages(join(exportRoot, DATABASE_PATH), dbPath);
  const dbHash = hashFile(dbPath);
  const expected = baseEntries.map((e) => (e.path === DATABASE_PATH ? { path: e.path, ...dbHash } : e));
  const grownBytes = expected.reduce((sum, e) => sum + e.size, 0);
  steps.grow_backup = await timedStep('backup after +1%', tool, grownBytes, () => tool.backup(source));
  const snapshots = tool.snapshotCount();

  rmSync(target, { recursive: true, force: true });
  mkdirSync(target, { recursive: true });
  steps.restore = await timedStep('restore', tool, grownBytes, () => tool.restore(target));
  log(`${tool.name}: verifying the restore (sha256 of every file)…`);
  const restored = hashTree(restoredRoot(target, source)).map((e) => ({ ...e, path: `WhatsApp/${e.path}` }));
  const diff = diffTrees(expected, restored);
  if (diff.length > 0) {
    throw new Error(`${tool.name} restored a tree that differs from the source (${diff.length} differences):\n  ` +
      `${diff.slice(0, 20).join('\n  ')}${diff.length > 20 ? '\n  …' : ''}`);
  }
  log(`${tool.name}: restore identical (${restored.length} files)`);
  if (!keep) tool.cleanup();
  return {
    steps, snapshots, initInfo,
    grow: {
      added_messages: grown.added, db_bytes_before: grown.bytesBefore, db_bytes_after: grown.bytesAfter,
      db_sha256_after: dbHash.sha256, pages: pages.pages, pages_changed: pages.changed, pages_appended: pages.appended,
    },
  };
}

function gitCommit() {
  const r = spawnSync('git', ['-C', REPO_ROOT, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.help) {
    console.log(USAGE);
    return 0;
  }
  const sizeBytes = parseSize(opts.size);
  const loadStart = round1(loadavg()[0]);
  const pageFaultUs = pageFaultMicros();
  const workDir = join(opts.out, 'work');
  const tools = {};
  if (opts.tools.includes('restic')) {
    if (!existsSync('/usr/bin/restic')) throw new Error('restic is not installed (apt-get install restic)');
    tools.restic = restic({ workDir });
  }
  if (opts.tools.includes('chatsafe')) {
    tools.chatsafe = chatsafe({ workDir, repoRoot: REPO_ROOT });
    const missing = tools.chatsafe.missingCommands();
    if (missing.length > 0) {
      throw new Error(`\`chatsafe --help\` does not list ${missing.join(', ')} yet; run \`npm run bench -- --tools restic\` to measure restic alone`);
    }
  }

  const exportDir = join(opts.out, `export-${opts.size}-${opts.seed}`);
  const { root: exportRoot, manifest } = await ensureExport({ dir: exportDir, sizeBytes, seed: opts.seed, log });
  log(`export ${exportRoot}: ${manifest.fileCount} files, ${manifest.totalBytes} bytes`);
  mkdirSync(workDir, { recursive: true });

  const runs = { restic: [], chatsafe: [] };
  const order = [];
  const versions = {};
  let grow = null;
  for (let round = 0; round < opts.rounds; round++) {
    const names = Object.keys(tools).sort();
    // Alternate who goes first, so neither tool always meets the caches the other left behind.
    const roundOrder = round % 2 === 0 ? names.reverse() : names;
    order.push(roundOrder);
    for (const name of roundOrder) {
      const tool = tools[name];
      versions[name] ??= tool.version();
      log(`round ${round + 1}/${opts.rounds}: ${name}`);
      const run = await runTool(tool, { exportRoot, manifest, workDir, seed: opts.seed, keep: opts.keep, round });
      if (run.initInfo.repositoryVersion) versions.resticRepositoryVersion = run.initInfo.repositoryVersion;
      if (grow && grow.db_sha256_after !== run.grow.db_sha256_after) log('note: the grown database differs between runs (SQLite wrote it differently)');
      grow ??= run.grow;
      runs[name].push(run);
    }
  }
  if (!opts.keep) rmSync(workDir, { recursive: true, force: true });

  const meta = {
    size: opts.size,
    size_bytes: manifest.totalBytes,
    seed: opts.seed,
    files: manifest.fileCount,
    database_bytes: manifest.database.bytes,
    database_messages: manifest.database.messages,
    export_sha256: manifest.sha256,
    rounds: opts.rounds,
    order,
    chatsafe_version: versions.chatsafe ?? null,
    restic_version: versions.restic ?? null,
    restic_repository_version: versions.resticRepositoryVersion ?? null,
    snapshots_after: Object.fromEntries(Object.entries(runs).filter(([, r]) => r.length > 0).map(([n, r]) => [n, r[r.length - 1].snapshots])),
    cpus: cpus().length,
    load_average: { start: loadStart, end: round1(loadavg()[0]) },
    page_fault_us: pageFaultUs,
    node: process.version,
    commit: gitCommit(),
    measured_at: new Date().toISOString(),
  };
  const result = buildResult({ meta, chatsafeRuns: runs.chatsafe, resticRuns: runs.restic, grow, outDir: opts.out });
  if (tools.chatsafe) writeFileSync(join(opts.out, `results-${opts.size}.json`), JSON.stringify(result, null, 2));
  console.log(formatTable(result).join('\n'));
  console.log(JSON.stringify(result));
  return 0;
}

main().then(
  (code) => { process.exitCode = code; },
  (err) => {
    console.error(`bench: ${err.message}`);
    process.exitCode = 1;
  },
);
