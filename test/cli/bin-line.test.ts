import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { test } from 'node:test';
import { browserEnv } from '../../src/cli/commands/ui.js';
import { CLI_BIN, CLI_ENV, CLI_NODE_OPTIONS } from '../helpers/fixtures.js';

test('the chatsafe command runs through its own #! line, with its V8 options and allocator setting, as npm links it and as the bench runs it', () => {
  const first = readFileSync(CLI_BIN, 'utf8').split('\n')[0]!;
  assert.match(first, /^#!\/usr\/bin\/env -S MALLOC_MMAP_THRESHOLD_=1048576 MALLOC_ARENA_MAX=1 GLIBC_TUNABLES=glibc\.malloc\.hugetlb=1 node --single-threaded-gc --max-semi-space-size=2 --v8-pool-size=2$/);
  // Run as a user's shell would: the file itself, with the node running the tests first on PATH,
  // and a preload that reports the options node was started with, and the allocator setting it got.
  const dir = mkdtempSync(join(tmpdir(), 'chatsafe-bin-'));
  try {
    const report = join(dir, 'report.cjs');
    const out = join(dir, 'exec-argv.json');
    writeFileSync(report, `require('node:fs').writeFileSync(${JSON.stringify(out)}, JSON.stringify([process.execArgv, process.env.MALLOC_MMAP_THRESHOLD_ ?? null, process.env.MALLOC_ARENA_MAX ?? null, process.env.GLIBC_TUNABLES ?? null]));\n`);
    const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}`, NODE_OPTIONS: `--require ${report}` };
    // only the #! line sets them
    delete env.MALLOC_MMAP_THRESHOLD_;
    delete env.MALLOC_ARENA_MAX;
    delete env.GLIBC_TUNABLES;
    const r = spawnSync(CLI_BIN, ['--version'], { encoding: 'utf8', env });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout.trim(), /^\d+\.\d+\.\d+/);
    const options = ['--single-threaded-gc', '--max-semi-space-size=2', '--v8-pool-size=2'];
    assert.deepEqual(JSON.parse(readFileSync(out, 'utf8')), [options, '1048576', '1', 'glibc.malloc.hugetlb=1']);
    assert.deepEqual(CLI_NODE_OPTIONS, options, 'the options test helpers start the CLI with');
    assert.deepEqual(CLI_ENV, { MALLOC_MMAP_THRESHOLD_: '1048576', MALLOC_ARENA_MAX: '1', GLIBC_TUNABLES: 'glibc.malloc.hugetlb=1' }, 'the variables test helpers start the CLI with');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the browser chatsafe ui opens does not get the allocator settings of the command', () => {
  const env = browserEnv({ PATH: '/usr/bin', DISPLAY: ':0', MALLOC_MMAP_THRESHOLD_: '1048576', MALLOC_ARENA_MAX: '1', GLIBC_TUNABLES: 'glibc.malloc.hugetlb=1' });
  assert.deepEqual(env, { PATH: '/usr/bin', DISPLAY: ':0' });
});
