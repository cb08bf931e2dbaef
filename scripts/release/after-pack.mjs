// electron-builder's afterPack hook (electron-builder.yml): flips the Electron
// fuses of the packed app (fuses.mjs has the list and the reasons). It runs
// after the app is packed and before it is signed, so the signature covers
// the flipped binary. Any failure stops the build: an installer without its
// fuses must not be made.
import fuses from '@electron/fuses';
import { electronExecutable, fuseConfig, FUSE_SETTINGS } from './fuses.mjs';

/** @param {import('app-builder-lib').AfterPackContext} context */
export default async function afterPack(context) {
  const platform = context.electronPlatformName;
  const arch = archName(context.arch);
  const packager = context.packager;
  const executable = electronExecutable(context.appOutDir, platform, packager.appInfo.productFilename, packager.executableName);
  const wires = await fuses.flipFuses(executable, fuseConfig({ platform, arch }));
  console.log(`  • fuses set (${Object.entries(FUSE_SETTINGS).map(([name, on]) => `${name} ${on ? 'on' : 'off'}`).join(', ')}) in ${wires} fuse wire${wires === 1 ? '' : 's'}`);
}

/** electron-builder's Arch enum value as the name Node and Electron use. */
function archName(arch) {
  return ['ia32', 'x64', 'armv7l', 'arm64', 'universal'][arch] ?? String(arch);
}
