/**
 * electron-builder.yml: valid against electron-builder's own JSON schema, and
 * its security-relevant settings are the ones we mean to ship.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, sep } from 'node:path';
import { describe, test } from 'node:test';
import { BUILDER_YML, builderConfig, builderSchema, loadAfterPack, REPO_ROOT } from './release-scripts.js';

const requireHere = createRequire(join(REPO_ROOT, 'package.json'));
// The same minimatch and plist parser electron-builder itself uses, so the checks match its reading.
const requireBuilder = createRequire(requireHere.resolve('app-builder-lib'));
const { Minimatch } = requireBuilder('minimatch') as { Minimatch: new (p: string, o: { dot: boolean }) => { match(path: string): boolean } };
const plist = requireBuilder('plist') as { parse(xml: string): unknown };

const config = builderConfig();

describe('electron-builder.yml', () => {
  test('validates against electron-builder\'s schema (app-builder-lib/scheme.json)', () => {
    const validate = builderSchema();
    const ok = validate(config);
    assert.equal(ok, true, `schema errors: ${JSON.stringify(validate.errors, null, 2)}`);
    // The schema really rejects things: an unknown option and a wrong type.
    assert.equal(validate({ ...config, notAnOption: true }), false);
    assert.equal(validate({ ...config, nsis: { ...config.nsis, oneClick: 'no' } }), false);
  });

  test('identity, icons and the .chatsafe file association', () => {
    assert.equal(config.productName, 'Chatsafe');
    assert.match(config.appId, /^[a-z0-9-]+(\.[a-z0-9-]+){2,}$/);
    const chatsafe = config.fileAssociations.find((a) => a.ext === 'chatsafe');
    assert.ok(chatsafe, 'a file association for .chatsafe');
    assert.equal(chatsafe.mimeType, 'application/x-chatsafe-bundle');
    for (const icon of [config.win.icon, config.mac.icon]) assert.ok(existsSync(join(REPO_ROOT, icon)), `${icon} exists`);
    assert.ok(statSync(join(REPO_ROOT, config.linux.icon)).isDirectory());
  });

  test('targets: NSIS with the per-user/per-machine choice, dmg and zip, AppImage and deb', () => {
    assert.deepEqual(config.win.target, ['nsis']);
    assert.equal(config.nsis.oneClick, false);
    assert.equal(config.nsis.perMachine, false, 'perMachine false with oneClick false shows the "for me / for everyone" page');
    assert.equal(config.nsis.allowElevation, true);
    assert.deepEqual([...config.mac.target].sort(), ['dmg', 'zip']);
    assert.deepEqual([...config.linux.target].sort(), ['AppImage', 'deb']);
  });

  test('signing: publisher name on Windows, hardened runtime and notarization on macOS', () => {
    assert.ok(config.win.signtoolOptions.publisherName.length > 0);
    assert.equal(config.win.verifyUpdateCodeSignature, true);
    assert.equal(config.mac.hardenedRuntime, true);
    assert.equal(config.mac.notarize, true);
    assert.equal(config.mac.entitlements, config.mac.entitlementsInherit);
  });

  test('entitlements: a valid plist with allow-jit only, none of the dangerous ones', () => {
    const path = join(REPO_ROOT, config.mac.entitlements);
    const parsed = plist.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    assert.deepEqual(parsed, { 'com.apple.security.cs.allow-jit': true });
    for (const bad of [
      'com.apple.security.cs.allow-unsigned-executable-memory',
      'com.apple.security.cs.disable-library-validation',
      'com.apple.security.cs.allow-dyld-environment-variables',
      'com.apple.security.cs.disable-executable-page-protection',
      'com.apple.security.get-task-allow',
      'com.apple.security.cs.debugger',
    ]) {
      assert.ok(!(bad in parsed), `${bad} must not be granted`);
    }
  });

  test('asar on, and every native module of the runtime dependencies unpacked from it', () => {
    assert.equal(config.asar, true);
    assert.equal(config.npmRebuild, true, 'native modules rebuilt for Electron');
    assert.equal(config.buildDependenciesFromSource, true);
    const unpack = config.asarUnpack.map((p) => new Minimatch(p, { dot: true }));
    const excluded = config.files.filter((p) => p.startsWith('!')).map((p) => new Minimatch(p.slice(1), { dot: true }));
    const natives = runtimeNativeModules().filter((f) => !excluded.some((m) => m.match(f)));
    for (const name of ['better-sqlite3', 'zstd-napi', 'pkcs11js']) {
      assert.ok(natives.some((f) => f.startsWith(`node_modules/${name}/`)), `found the native module of ${name} (found: ${natives.join(', ')})`);
    }
    const packedInside = natives.filter((f) => !unpack.some((m) => m.match(f)));
    assert.deepEqual(packedInside, [], 'native modules that asarUnpack misses');
  });

  test('files: the app entry point, the renderer and package.json; no tests, sources or CLI', () => {
    const main = config.extraMetadata.main;
    assert.ok(existsSync(join(REPO_ROOT, main)), `${main} is built (npm run build)`);
    const included = (rel: string) => config.files.filter((p) => !p.startsWith('!')).some((p) => new Minimatch(p, { dot: true }).match(rel));
    for (const rel of [main, 'dist/electron/preload.cjs', 'renderer/dist/index.html', 'package.json', 'dist/src/app/jobs/job-worker.js', 'dist/src/core/jobs/crypto-worker.js']) {
      assert.ok(included(rel), `${rel} is packaged`);
    }
    for (const rel of ['dist/test/release/builder-config.test.js', 'src/app/router.ts', 'dist/src/cli/main.js', 'dist/src/vault-server/server.js', 'dist/electron/main.js.map', 'electron/main.ts']) {
      assert.ok(!included(rel), `${rel} is not packaged`);
    }
  });

  test('the afterPack hook is the fuse hook, and it exists', async () => {
    assert.equal(config.afterPack, './scripts/release/after-pack.mjs');
    assert.equal(typeof (await loadAfterPack()), 'function');
  });

  test('updates: a generic provider whose address comes from the environment, no host written down', () => {
    assert.deepEqual(config.publish, { provider: 'generic', url: '${env.CHATSAFE_UPDATE_URL}' });
    const text = readFileSync(BUILDER_YML, 'utf8');
    assert.doesNotMatch(text, /[a-z]+:\/\//i, 'no URL anywhere in the packaging configuration');
  });
});

/** Every .node file inside the packages the app depends on at run time (package.json "dependencies", transitively). */
function runtimeNativeModules(): string[] {
  const found = new Set<string>();
  const seen = new Set<string>();
  const visit = (pkgDir: string) => {
    if (seen.has(pkgDir)) return;
    seen.add(pkgDir);
    const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string>; optionalDependencies?: Record<string, string> };
    if (pkgDir !== REPO_ROOT) for (const f of nodeFiles(pkgDir)) found.add(relative(REPO_ROOT, f).split(sep).join('/'));
    for (const dep of Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies })) {
      const dir = resolvePackage(dep, pkgDir);
      if (dir) visit(dir);
    }
  };
  visit(REPO_ROOT);
  return [...found].sort();
}

/** Node's lookup: node_modules/NAME in this package's folder, then in each folder above it. */
function resolvePackage(name: string, from: string): string | null {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dir === REPO_ROOT || dirname(dir) === dir) return null;
  }
}

function nodeFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules') continue; // nested packages are visited as dependencies
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...nodeFiles(p));
    else if (entry.name.endsWith('.node')) out.push(p);
  }
  return out;
}
