#!/usr/bin/env node
// Runs the compiled test files under dist/test with Node's own test runner.
// Usage: node scripts/run-tests.mjs [substring-filter ...]
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = 'dist/test';
const filters = process.argv.slice(2);
const files = [];
(function walk(dir) {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.test.js') && (filters.length === 0 || filters.some((f) => p.includes(f)))) files.push(p);
  }
})(root);
if (files.length === 0) {
  console.error(`no test files matched under ${root}; run \`npm run build\` first`);
  process.exit(1);
}
// Commands under test keep their index caches in a folder of the run's own, not in the user's cache.
const cacheDir = mkdtempSync(join(tmpdir(), 'chatsafe-test-cache-'));
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=2', '--enable-source-maps', ...files], { stdio: 'inherit', env: { ...process.env, CHATSAFE_CACHE_DIR: cacheDir } });
rmSync(cacheDir, { recursive: true, force: true });
process.exit(r.status ?? 1);
