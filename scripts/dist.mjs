#!/usr/bin/env node
// `npm run dist`: installers for the host platform (electron-builder.yml).
//
//   node scripts/dist.mjs [--dir] [--no-build] [--no-rebuild] [--out DIR]
//
//   --dir         only the unpacked app (no installer), e.g. to inspect it
//   --no-build    use the existing dist/ and renderer/dist/ instead of `npm run build`
//   --no-rebuild  keep the native modules as they are (a quick look only: the app
//                 cannot load Node-ABI modules)
//   --out DIR     where the installers go (default dist/installers)
//
// Release mode (CHATSAFE_RELEASE=1) checks the signing variables of the host
// platform before anything else and stops with exit code 2 naming each missing
// one (scripts/release/release-env.mjs). Without it the build is unsigned and
// says so. It needs an Electron binary here: ELECTRON_OVERRIDE_DIST_PATH, or the
// one `node node_modules/electron/install.js` downloads; without one it says so
// in one line and exits 1. Afterwards it writes SHA256SUMS (signed with GPG on
// a Linux release) and rebuilds the native modules for Node, which
// electron-builder rebuilt for Electron in place.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { ReleaseError, signDetached, writeChecksums } from './release/checksums.mjs';
import { effectiveConfig } from './release/effective-config.mjs';
import { checkReleaseEnv, isReleaseMode, PLATFORM_NAMES } from './release/release-env.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
/** The native modules of the runtime dependencies (each has a .node file unpacked from the asar). */
const NATIVE_MODULES = ['better-sqlite3', 'zstd-napi', 'pkcs11js'];

const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const outIndex = args.indexOf('--out');
const known = new Set(['--dir', '--no-build', '--no-rebuild', '--out']);
const unknown = args.filter((a, i) => !known.has(a) && !(outIndex >= 0 && i === outIndex + 1));
if (unknown.length > 0 || (outIndex >= 0 && !args[outIndex + 1])) {
  fail(2, `usage: node scripts/dist.mjs [--dir] [--no-build] [--no-rebuild] [--out DIR]${unknown.length ? ` (unknown: ${unknown.join(' ')})` : ''}`);
}
const onlyDir = flag('--dir');
const outDir = outIndex >= 0 ? resolve(/** @type {string} */ (args[outIndex + 1])) : join(ROOT, 'dist', 'installers');
const env = process.env;
const platform = process.platform;
const release = isReleaseMode(env);

// 1. Release mode: every signing variable of this platform, before any work.
/** @type {'signtool' | 'azure' | null} */
let windowsSigning = null;
if (release) {
  const check = checkReleaseEnv(platform, env);
  if (!check.ok) fail(2, check.message);
  windowsSigning = check.windowsSigning;
  if (platform === 'linux') checkGpgKey(/** @type {string} */ (env.CHATSAFE_GPG_KEY_ID));
}

// 2. An Electron binary to package: electron-builder would otherwise download one.
const electronDist = findElectronDist();
if (!electronDist) {
  fail(1, `Cannot build installers: no Electron binary on this machine (set ELECTRON_OVERRIDE_DIST_PATH to an unpacked Electron ${electronVersion()} folder, or run \`node node_modules/electron/install.js\` where downloads work).`);
}
const platformName = PLATFORM_NAMES[/** @type {keyof typeof PLATFORM_NAMES} */ (platform)];
if (!platformName) fail(1, `Cannot build installers on ${platform}: Windows, macOS and Linux only.`);
if (!release) console.log(`Unsigned ${platformName} build (set CHATSAFE_RELEASE=1 and the signing variables for a signed release; docs/RELEASING.md).`);

// 3. The app itself.
if (!flag('--no-build')) run('npm', ['run', 'build'], 'npm run build failed');

// 4. The installers. electron-builder merges a config object into electron-builder.yml
// (it cannot remove a key that way), so the effective config goes to it as a file.
const config = builderConfig();
const configDir = mkdtempSync(join(tmpdir(), 'chatsafe-dist-'));
const configFile = join(configDir, 'electron-builder.json');
writeFileSync(configFile, JSON.stringify(config, null, 2));
let built;
try {
  const { build } = await import('electron-builder');
  process.chdir(ROOT); // electron-builder resolves the hook paths in the config from here
  const hostKey = platform === 'darwin' ? 'mac' : platform === 'win32' ? 'win' : 'linux';
  built = await build({ projectDir: ROOT, config: configFile, publish: 'never', [hostKey]: onlyDir ? ['dir'] : [] });
} catch (e) {
  rmSync(configDir, { recursive: true, force: true });
  if (config.npmRebuild) restoreNativeModules();
  fail(1, `electron-builder failed: ${oneLine(e)}`);
}
rmSync(configDir, { recursive: true, force: true });
if (config.npmRebuild) restoreNativeModules();

// 5. Checksums, and on a Linux release their signature.
if (!onlyDir) {
  try {
    const { path, files } = await writeChecksums(outDir);
    console.log(`Wrote ${path} for ${files.join(', ')}`);
    if (release && platform === 'linux') {
      console.log(`Signed: ${signDetached(path, { keyId: /** @type {string} */ (env.CHATSAFE_GPG_KEY_ID), passphrase: /** @type {string} */ (env.CHATSAFE_GPG_PASSPHRASE) })}`);
    }
  } catch (e) {
    if (e instanceof ReleaseError) fail(1, `${e.message}\n${e.hint}`);
    throw e;
  }
}
console.log(`Done: ${onlyDir ? 'unpacked app' : 'installers'} in ${outDir}${built?.length ? ` (${built.length} file${built.length === 1 ? '' : 's'})` : ''}.`);

/** electron-builder.yml plus what depends on the environment and the options. */
function builderConfig() {
  // Unsigned builds look up no signing identity in the keychain.
  if (!release) process.env.CSC_IDENTITY_AUTO_DISCOVERY = 'false';
  return effectiveConfig(YAML.parse(readFileSync(join(ROOT, 'electron-builder.yml'), 'utf8')), {
    env,
    release,
    windowsSigning,
    electronDist: /** @type {string} */ (electronDist),
    outDir,
    rebuild: !flag('--no-rebuild'),
  });
}

/** The folder holding the Electron executable, or null. */
function findElectronDist() {
  const exe = platform === 'darwin' ? 'Electron.app' : platform === 'win32' ? 'electron.exe' : 'electron';
  const candidates = [env.ELECTRON_OVERRIDE_DIST_PATH, join(ROOT, 'node_modules', 'electron', 'dist')];
  for (const dir of candidates) if (dir && existsSync(join(dir, exe))) return resolve(dir);
  return null;
}

function electronVersion() {
  try {
    return /** @type {{ version: string }} */ (require('electron/package.json')).version;
  } catch {
    return '';
  }
}

/** The signing key must be in the keyring with its secret part; found out before a long build. */
function checkGpgKey(keyId) {
  const r = spawnSync('gpg', ['--batch', '--list-secret-keys', keyId], { encoding: 'utf8' });
  if (r.error) fail(2, 'Release build stopped: gpg is not installed; it signs SHA256SUMS (Debian: apt-get install gnupg).');
  if (r.status !== 0) fail(2, 'Release build stopped: CHATSAFE_GPG_KEY_ID names no secret key in the GPG keyring (GNUPGHOME, if set, picks the keyring).');
}

/** electron-builder rebuilt the native modules for Electron in node_modules; put Node's back. */
function restoreNativeModules() {
  console.log(`Rebuilding ${NATIVE_MODULES.join(', ')} for Node again (electron-builder built them for Electron).`);
  run('npm', ['rebuild', ...NATIVE_MODULES], 'rebuilding the native modules for Node failed; run `npm rebuild` before the tests');
}

function run(command, argv, what) {
  const r = spawnSync(command, argv, { cwd: ROOT, stdio: 'inherit', shell: process.platform === 'win32' });
  if (r.status !== 0) fail(1, what);
}

function oneLine(e) {
  const message = e instanceof Error ? e.message : String(e);
  return message.split('\n').map((l) => l.trim()).filter(Boolean).slice(0, 3).join(' / ');
}

/** One message, no stack trace. */
function fail(code, message) {
  console.error(message);
  process.exit(code);
}
