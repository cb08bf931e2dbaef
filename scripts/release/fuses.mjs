// The Electron fuses every packaged Chatsafe carries: one list, read by the
// afterPack hook (after-pack.mjs) that flips them and by the tests that
// assert them (test/release/). Fuses are bits compiled into the Electron
// binary; flipping them after packing (and before signing, which is when
// electron-builder runs afterPack) turns features off for good, whatever the
// environment or command line of the person starting the app.
import fuses from '@electron/fuses';
import { join } from 'node:path';

const { FuseV1Options, FuseVersion } = fuses;

/** Fuse name (as in @electron/fuses' FuseV1Options) and the state we set, with why. */
export const FUSE_SETTINGS = Object.freeze({
  // ELECTRON_RUN_AS_NODE would turn the signed app into a general Node runtime.
  RunAsNode: false,
  // Cookies and other Chromium storage encrypted with the OS keychain key.
  EnableCookieEncryption: true,
  // NODE_OPTIONS could preload arbitrary code into the main process.
  EnableNodeOptionsEnvironmentVariable: false,
  // --inspect and friends would open a debugger port into the main process.
  EnableNodeCliInspectArguments: false,
  // app.asar is checked against the hash embedded at build time (macOS, Windows).
  EnableEmbeddedAsarIntegrityValidation: true,
  // Only resources/app.asar is loaded: no app folder planted next to it.
  OnlyLoadAppFromAsar: true,
  // The renderer comes from app://, never file://: file pages get no extra powers.
  GrantFileProtocolExtraPrivileges: false,
});

/**
 * The @electron/fuses configuration for one packed app.
 * @param {{ platform: string, arch: string }} target electron platform name (darwin, mas, win32, linux) and arch name
 */
export function fuseConfig(target) {
  /** @type {import('@electron/fuses').FuseV1Config} */
  const config = {
    version: FuseVersion.V1,
    // Flipping fuses changes the binary, which breaks the ad-hoc signature an
    // arm64 macOS binary must have to start at all; re-sign it ad hoc (the
    // real signature comes later, from electron-builder).
    resetAdHocDarwinSignature: (target.platform === 'darwin' || target.platform === 'mas') && target.arch === 'arm64',
  };
  for (const [name, on] of Object.entries(FUSE_SETTINGS)) {
    const index = FuseV1Options[/** @type {keyof typeof FuseV1Options} */ (name)];
    if (typeof index !== 'number') throw new Error(`@electron/fuses does not know the fuse ${name}`);
    config[index] = on;
  }
  return config;
}

/** The executable inside a packed app folder, where the fuse wire lives. */
export function electronExecutable(appOutDir, platform, productFilename, executableName) {
  switch (platform) {
    case 'darwin':
    case 'mas':
      return join(appOutDir, `${productFilename}.app`);
    case 'win32':
      return join(appOutDir, `${productFilename}.exe`);
    default:
      return join(appOutDir, executableName);
  }
}
