/**
 * A real Linux `--dir` build with electron-builder (through scripts/dist.mjs)
 * and its fuses read back from the packed binary with @electron/fuses. It
 * needs an Electron binary (ELECTRON_OVERRIDE_DIST_PATH, or the download of
 * `node node_modules/electron/install.js`) and is skipped without one. The
 * native modules are not rebuilt here (--no-rebuild): that takes minutes and
 * the fuses and the layout do not depend on it.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { tempDir } from '../helpers/tmp.js';
import { builderConfig, cleanEnv, electronDist, electronFuses, FUSE_STATE, loadFuses, REPO_ROOT, runScript } from './release-scripts.js';

const dist = electronDist();
const skip =
  process.platform !== 'linux'
    ? `the --dir build test runs on Linux (this is ${process.platform})`
    : !dist
      ? 'no Electron binary here: set ELECTRON_OVERRIDE_DIST_PATH to an unpacked Electron to run the packaged build'
      : !existsSync(join(REPO_ROOT, 'renderer', 'dist', 'index.html'))
        ? 'the renderer is not built (npm run build)'
        : false;

let out: { dir: string; cleanup: () => void } | null = null;
after(() => out?.cleanup());

test('Linux --dir build: fuses read back from the packed binary, app in the asar, native modules unpacked', { skip, timeout: 300_000 }, async () => {
  out = tempDir('chatsafe-dir-build-');
  const r = runScript('scripts/dist.mjs', ['--dir', '--no-build', '--no-rebuild', '--out', out.dir], cleanEnv({ ELECTRON_OVERRIDE_DIST_PATH: dist ?? '' }), 280_000);
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /^Unsigned Linux build/);

  const appDir = join(out.dir, 'linux-unpacked');
  const exe = join(appDir, builderConfig().linux.executableName);
  const wire = await electronFuses.getCurrentFuseWire(exe);
  const { FUSE_SETTINGS } = await loadFuses();
  for (const [name, on] of Object.entries(FUSE_SETTINGS)) {
    assert.equal(wire[electronFuses.FuseV1Options[name] as number], on ? FUSE_STATE.ENABLE : FUSE_STATE.DISABLE, `fuse ${name} is ${on ? 'on' : 'off'}`);
  }

  const asarPath = join(appDir, 'resources', 'app.asar');
  assert.ok(existsSync(asarPath), 'resources/app.asar');
  assert.ok(!existsSync(join(appDir, 'resources', 'app')), 'no unpacked app folder beside it');
  const asar = createRequire(join(REPO_ROOT, 'package.json'))('@electron/asar') as { extractFile(archive: string, file: string): Buffer; listPackage(archive: string): string[] };
  const pkg = JSON.parse(asar.extractFile(asarPath, 'package.json').toString('utf8')) as { main: string };
  assert.equal(pkg.main, 'dist/electron/main.js');
  const listed = new Set(asar.listPackage(asarPath).map((p) => p.replaceAll('\\', '/')));
  for (const f of ['/dist/electron/main.js', '/dist/electron/preload.cjs', '/renderer/dist/index.html']) assert.ok(listed.has(f), `${f} in the asar`);
  for (const f of ['better-sqlite3/build/Release/better_sqlite3.node', 'zstd-napi/build/Release/binding.node', 'pkcs11js/build/Release/pkcs11.node']) {
    assert.ok(existsSync(join(appDir, 'resources', 'app.asar.unpacked', 'node_modules', f)), `${f} unpacked`);
  }
});
