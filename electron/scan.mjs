#!/usr/bin/env node
// `npm run security`: Electronegativity over the Electron main/preload sources
// and the built renderer page. Fails on any HIGH severity finding; prints the
// others for review. Runs offline (its update and release lookups just fail).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, cpSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const cli = require.resolve('@doyensec/electronegativity/dist/index.js');
const electronVersion = JSON.parse(readFileSync(require.resolve('electron/package.json'), 'utf8')).version;

// What ships: main and preload sources, and the renderer's page.
const work = mkdtempSync(join(tmpdir(), 'chatsafe-scan-'));
let exitCode = 1;
try {
  for (const f of ['main.ts', 'preload.cts', 'ipc.ts', 'security.ts', 'updater.ts']) cpSync(join(root, 'electron', f), join(work, f.replace(/\.cts$/, '.ts')));
  cpSync(join(root, 'renderer', 'index.html'), join(work, 'index.html'));
  const out = join(work, 'findings.csv');
  const r = spawnSync(process.execPath, [cli, '-i', work, '-r', '-v', 'false', '-e', electronVersion, '-o', out], { encoding: 'utf8' });
  if (r.status !== 0) {
    throw new Error(`electronegativity failed to run:\n${r.stderr}`);
  }
  const rows = readFileSync(out, 'utf8').trim().split('\n').slice(1).filter(Boolean);
  const findings = rows.map((line) => {
    const [issue, severity, confidence, file, location] = line.split(',').map((s) => s.replace(/^"|"$/g, ''));
    return { issue, severity, confidence, file, location };
  });
  for (const f of findings) console.log(`${f.severity.padEnd(13)} ${f.confidence.padEnd(10)} ${f.issue} ${f.file}:${f.location}`);
  const high = findings.filter((f) => f.severity === 'HIGH');
  console.log(`electronegativity (Electron ${electronVersion}): ${findings.length} finding(s), ${high.length} high`);
  exitCode = high.length > 0 ? 1 : 0;
} catch (e) {
  console.error(e instanceof Error ? e.message : String(e));
} finally {
  // process.exit inside the try would skip this and leave the copy behind.
  rmSync(work, { recursive: true, force: true });
}
process.exit(exitCode);
