/**
 * The release scripts (plain .mjs files under scripts/, run by npm and by
 * electron-builder without a build step) loaded into the compiled tests, with
 * the types of what the tests use from them.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';
import YAML from 'yaml';
import { REPO_ROOT } from '../helpers/fixtures.js';

export { REPO_ROOT };

type FuseConfig = Record<string | number, boolean | string | undefined> & { version: string; resetAdHocDarwinSignature?: boolean };

export interface FusesModule {
  FUSE_SETTINGS: Readonly<Record<string, boolean>>;
  fuseConfig(target: { platform: string; arch: string }): FuseConfig;
  electronExecutable(appOutDir: string, platform: string, productFilename: string, executableName: string): string;
}

export interface ReleaseEnvModule {
  checkReleaseEnv(
    platform: string,
    env: Readonly<Record<string, string | undefined>>,
  ): { ok: true; windowsSigning: 'signtool' | 'azure' | null } | { ok: false; missing: Array<{ name: string }>; invalid: Array<{ name: string }>; message: string };
}

export interface EffectiveConfigModule {
  effectiveConfig(
    base: BuilderConfig,
    o: { env: Readonly<Record<string, string | undefined>>; release: boolean; windowsSigning: 'signtool' | 'azure' | null; electronDist: string; outDir: string; rebuild: boolean },
  ): BuilderConfig & {
    electronDist: string;
    mac: { identity?: null; forceCodeSigning?: boolean };
    win: { forceCodeSigning?: boolean; signtoolOptions?: { publisherName: string[] }; azureSignOptions?: Record<string, string | undefined> };
  };
}

export interface AfterPackContext {
  appOutDir: string;
  electronPlatformName: string;
  arch: number;
  packager: { appInfo: { productFilename: string }; executableName: string };
}

const load = async <T>(rel: string): Promise<T> => (await import(pathToFileURL(join(REPO_ROOT, rel)).href)) as T;

export const loadFuses = () => load<FusesModule>('scripts/release/fuses.mjs');
export const loadReleaseEnv = () => load<ReleaseEnvModule>('scripts/release/release-env.mjs');
export const loadEffectiveConfig = () => load<EffectiveConfigModule>('scripts/release/effective-config.mjs');
export const loadAfterPack = async () => (await load<{ default: (c: AfterPackContext) => Promise<void> }>('scripts/release/after-pack.mjs')).default;

/** @electron/fuses, the library the hook uses, for reading fuse wires back. */
export const electronFuses = createRequire(join(REPO_ROOT, 'package.json'))('@electron/fuses') as {
  FuseV1Options: Record<string, number | string>;
  getCurrentFuseWire(path: string): Promise<Record<string, number | string>>;
};

/** The parts of electron-builder.yml the tests assert (the schema test checks the whole file). */
export interface BuilderConfig {
  appId: string;
  productName: string;
  directories: { buildResources: string; output: string };
  extraMetadata: { main: string };
  files: string[];
  asar: boolean;
  asarUnpack: string[];
  npmRebuild: boolean;
  buildDependenciesFromSource: boolean;
  afterPack: string;
  fileAssociations: Array<{ ext: string; name?: string; mimeType?: string }>;
  publish: { provider: string; url: string };
  win: { target: string[]; icon: string; signtoolOptions: { publisherName: string[] }; verifyUpdateCodeSignature: boolean };
  nsis: { oneClick: boolean; perMachine: boolean; allowElevation: boolean };
  mac: { target: string[]; icon: string; hardenedRuntime: boolean; entitlements: string; entitlementsInherit: string; notarize: boolean };
  linux: { target: string[]; icon: string; executableName: string };
}

export const BUILDER_YML = join(REPO_ROOT, 'electron-builder.yml');

/** electron-builder's own JSON schema of its configuration (app-builder-lib/scheme.json), compiled. */
export function builderSchema(): ValidateFunction {
  const schema = createRequire(join(REPO_ROOT, 'package.json'))('app-builder-lib/scheme.json') as object;
  return new Ajv({ allErrors: true, strict: false }).compile(schema);
}

/** The bytes of a fuse in the wire: ASCII '0' and '1' (@electron/fuses' FuseState, not exported by it). */
export const FUSE_STATE = { DISABLE: 0x30, ENABLE: 0x31 } as const;

/** electron-builder.yml, parsed. */
export function builderConfig(): BuilderConfig {
  return YAML.parse(readFileSync(BUILDER_YML, 'utf8')) as BuilderConfig;
}

/** Runs a repository script with node and exactly the given environment. */
export function runScript(rel: string, args: string[], env: Record<string, string>, timeout = 60_000): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [join(REPO_ROOT, rel), ...args], { cwd: REPO_ROOT, env, encoding: 'utf8', timeout });
}

/** A minimal environment: no signing variables from the machine running the tests. */
export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...extra };
}

/** The folder with an Electron executable for this platform, or null (the same rule as scripts/dist.mjs). */
export function electronDist(): string | null {
  const exe = process.platform === 'darwin' ? 'Electron.app' : process.platform === 'win32' ? 'electron.exe' : 'electron';
  for (const dir of [process.env.ELECTRON_OVERRIDE_DIST_PATH, join(REPO_ROOT, 'node_modules', 'electron', 'dist')]) {
    if (dir && existsSync(join(dir, exe))) return dir;
  }
  return null;
}
