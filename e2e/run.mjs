#!/usr/bin/env node
// `npm run e2e`: the end-to-end specs in Debian's Chromium against `chatsafe ui`,
// then (when ELECTRON_OVERRIDE_DIST_PATH is set) the same specs in Electron.
// Assumes `npm run build` has run.
import { spawnSync } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, SHOTS } from './harness.mjs';

// Each run's screenshots replace the last run's.
rmSync(SHOTS, { recursive: true, force: true });

const specs = readdirSync(join(ROOT, 'e2e', 'specs'))
  .filter((f) => f.endsWith('.test.mjs') && (process.argv.length <= 2 || process.argv.slice(2).some((a) => f.includes(a))))
  .map((f) => join('e2e', 'specs', f));
let status = 0;
// Electron needs a display: without one, its run goes under Xvfb (Debian package xvfb).
const xvfb = !process.env.DISPLAY && spawnSync('sh', ['-c', 'command -v xvfb-run']).status === 0;
const fronts = ['web'];
if (process.env.ELECTRON_OVERRIDE_DIST_PATH) fronts.push('electron');
else console.log('e2e in Electron: skipped, no Electron binary here (set ELECTRON_OVERRIDE_DIST_PATH to a folder holding one to run these specs in Electron)');
for (const front of fronts) {
  const node = [process.execPath, '--test', '--test-concurrency=1', ...specs];
  const [cmd, ...args] = front === 'electron' && xvfb && process.env.ELECTRON_OVERRIDE_DIST_PATH ? ['xvfb-run', '-a', ...node] : node;
  const r = spawnSync(cmd, args, { cwd: ROOT, stdio: 'inherit', env: { ...process.env, CHATSAFE_E2E_FRONT: front } });
  status ||= r.status ?? 1;
}
process.exit(status);
