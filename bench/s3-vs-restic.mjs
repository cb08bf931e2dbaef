#!/usr/bin/env node
// Backup and restore throughput to S3 (Ceph radosgw on loopback, started by
// scripts/services/radosgw.sh), chatsafe side by side with restic's S3 back end
// on the same server in the same run, on the deterministic reference export.
//
//   npm run build && node bench/s3-vs-restic.mjs [--size 200M|1G] [--out DIR]
//
// Each tool gets its own bucket. Timed: first backup, unchanged second backup,
// restore of the latest snapshot (verified against the source by tree digest).
// Prints a table and, as its last line, one JSON object with every figure.
// Needs `chatsafe init/backup/restore --repo s3://...` (the CLI opening
// addresses with src/core/storage/open.ts).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { S3Client, CreateBucketCommand } from '@aws-sdk/client-s3';
import { ensureExport, parseSize } from './lib/generate-export.mjs';
import { runMeasured } from './lib/measure.mjs';
import { restoredRoot, toolEnvironment } from './lib/tools.mjs';
import { hashTree, treeDigest } from './lib/tree.mjs';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const log = (line) => console.error(`[s3-bench] ${line}`);

function parseArgs(argv) {
  const opts = { size: '200M', out: join(REPO_ROOT, 'bench', 'out') };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--size') opts.size = String(argv[++i]).toUpperCase();
    else if (argv[i] === '--out') opts.out = resolve(String(argv[++i]));
    else throw new Error(`unknown argument ${argv[i]} (--size, --out)`);
  }
  return opts;
}

function check(r, what) {
  if (r.code !== 0) throw new Error(`${what} failed (exit ${r.code}):\n${(r.stderr || r.stdout).trim().split('\n').slice(-15).join('\n')}`);
  return r;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const sizeBytes = parseSize(opts.size);
  mkdirSync(opts.out, { recursive: true });
  const { root: source } = await ensureExport({ dir: join(opts.out, `export-${opts.size}`), sizeBytes, log });
  const sourceDigest = treeDigest(await hashTree(source));

  const work = mkdtempSync(join(tmpdir(), 'chatsafe-s3bench-'));
  const svcDir = join(work, 'rgw');
  const script = join(REPO_ROOT, 'scripts', 'services', 'radosgw.sh');
  log('starting radosgw');
  const out = execFileSync('bash', [script, 'start', svcDir, String(process.pid)], { encoding: 'utf8' });
  const svc = Object.fromEntries(out.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  const endpoint = svc.S3_ENDPOINT;
  const env = toolEnvironment({ AWS_ACCESS_KEY_ID: svc.AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: svc.AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION: 'us-east-1' });
  const s3 = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY } });
  for (const b of ['bench-restic', 'bench-chatsafe']) await s3.send(new CreateBucketCommand({ Bucket: b }));
  s3.destroy();

  // Run as users run it: its #! line sets the V8 and allocator options (bin/chatsafe.js).
  const bin = join(REPO_ROOT, 'bin', 'chatsafe.js');
  const keyFile = join(work, 'chatsafe.key');
  const csRepo = `s3://bench-chatsafe/repo?endpoint=${encodeURIComponent(endpoint)}&region=us-east-1&pathStyle=1`;
  const resticEnv = { ...env, RESTIC_PASSWORD: 'chatsafe-bench-password' };
  const resticRepo = ['-r', `s3:${endpoint}/bench-restic`, '--cache-dir', join(work, 'restic-cache')];
  const tools = {
    restic: {
      init: () => check({ code: spawnSync('restic', [...resticRepo, 'init'], { env: resticEnv }).status }, 'restic init'),
      backup: () => runMeasured('restic', [...resticRepo, 'backup', source], { env: resticEnv }),
      restore: (t) => runMeasured('restic', [...resticRepo, 'restore', 'latest', '--target', t], { env: resticEnv }),
    },
    chatsafe: {
      init: () => check({ code: spawnSync(bin, ['init', '--repo', csRepo, '--key-file', keyFile], { env }).status }, 'chatsafe init'),
      backup: () => runMeasured(bin, ['backup', '--repo', csRepo, '--key-file', keyFile, source], { env }),
      restore: (t) => runMeasured(bin, ['restore', '--repo', csRepo, '--key-file', keyFile, 'latest', '--target', t], { env }),
    },
  };

  const figures = {};
  try {
    for (const [name, tool] of Object.entries(tools)) {
      log(`${name}: init`);
      tool.init();
      const first = check(await tool.backup(), `${name} backup`);
      const second = check(await tool.backup(), `${name} second backup`);
      const target = join(work, `restore-${name}`);
      const restore = check(await tool.restore(target), `${name} restore`);
      const ok = treeDigest(await hashTree(restoredRoot(target, source))) === sourceDigest;
      if (!ok) throw new Error(`${name}: restored tree differs from the source`);
      rmSync(target, { recursive: true, force: true });
      const mbps = (s) => Math.round((sizeBytes / 2 ** 20 / s) * 10) / 10;
      figures[name] = {
        backupMiBps: mbps(first.seconds), secondBackupSeconds: Math.round(second.seconds * 100) / 100, restoreMiBps: mbps(restore.seconds),
        backupPeakRssMiB: Math.round(first.peakRssBytes / 2 ** 20), restorePeakRssMiB: Math.round(restore.peakRssBytes / 2 ** 20),
      };
      log(`${name}: ${JSON.stringify(figures[name])}`);
    }
  } finally {
    execFileSync('bash', [script, 'stop', svcDir]);
    rmSync(work, { recursive: true, force: true });
  }
  const ratio = (k) => Math.round((figures.chatsafe[k] / figures.restic[k]) * 100) / 100;
  const result = { size: opts.size, endpoint: 'radosgw (loopback)', figures, backupRatio: ratio('backupMiBps'), restoreRatio: ratio('restoreMiBps') };
  console.log(`tool      backup MiB/s  2nd backup s  restore MiB/s`);
  for (const [n, f] of Object.entries(figures)) console.log(`${n.padEnd(9)} ${String(f.backupMiBps).padStart(12)}  ${String(f.secondBackupSeconds).padStart(12)}  ${String(f.restoreMiBps).padStart(13)}`);
  console.log(`chatsafe/restic: backup ${result.backupRatio}x, restore ${result.restoreRatio}x`);
  console.log(JSON.stringify(result));
}

main().catch((e) => {
  console.error(`[s3-bench] ${e.message}`);
  process.exit(1);
});
