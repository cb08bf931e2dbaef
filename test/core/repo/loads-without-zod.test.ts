/**
 * The repository commands must not load zod: its ~95 modules cost over 100 ms
 * of every run, a large share of an unchanged backup. Each command runs as a
 * real process with a module resolve hook that reports every module it loads.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { describeRun, runCli, withTempDir } from '../../helpers/cli.js';

const MARK = 'chatsafe-module-loaded ';

test('init, backup, snapshots, check, restore, forget and prune load no zod module', async () => {
  await withTempDir('no-zod', async (dir) => {
    const hooks = join(dir, 'hooks.mjs');
    const register = join(dir, 'register.mjs');
    writeFileSync(hooks, `export async function resolve(spec, ctx, next) {\n  const r = await next(spec, ctx);\n  process.stderr.write(${JSON.stringify(MARK)} + r.url + '\\n');\n  return r;\n}\n`);
    writeFileSync(register, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`);
    const source = join(dir, 'source');
    mkdirSync(join(source, 'Media'), { recursive: true });
    writeFileSync(join(source, 'notes.txt'), 'hello\n');
    writeFileSync(join(source, 'Media', 'a.bin'), Buffer.alloc(5000, 7));
    const repo = ['--repo', join(dir, 'repo'), '--key-file', join(dir, 'key')];
    const env = { NODE_OPTIONS: `--import ${pathToFileURL(register).href}` };
    const commands = [
      ['init', ...repo],
      ['backup', ...repo, source],
      ['backup', ...repo, source],
      ['snapshots', ...repo],
      ['check', ...repo, '--read-data'],
      ['restore', ...repo, 'latest', '--target', join(dir, 'restored')],
      ['forget', ...repo, '--keep-last', '1'],
      ['prune', ...repo],
    ];
    for (const args of commands) {
      const run = await runCli(args, { env });
      assert.equal(run.code, 0, `${args[0]}: ${describeRun(run)}`);
      const loaded = run.stderr.split('\n').filter((l) => l.startsWith(MARK));
      // The hook must really be reporting, or the absence of zod below proves nothing.
      assert.ok(loaded.some((l) => l.includes('/dist/src/core/repo/')), `${args[0]}: the resolve hook reported no repository module`);
      const zod = loaded.filter((l) => l.includes('/node_modules/zod/'));
      assert.deepEqual(zod, [], `${args[0]} loaded zod`);
    }
  });
});
