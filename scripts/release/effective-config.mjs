// electron-builder.yml as a given build uses it: the parts that depend on the
// environment and on `npm run dist`'s options, filled in. A pure function of
// its inputs, so test/release/dist.test.ts checks every branch.
import { azureSignOptions } from './release-env.mjs';

/**
 * @param {Record<string, any>} base electron-builder.yml, parsed
 * @param {{
 *   env: Readonly<Record<string, string | undefined>>,
 *   release: boolean,
 *   windowsSigning: 'signtool' | 'azure' | null,
 *   electronDist: string,
 *   outDir: string,
 *   rebuild: boolean,
 * }} o
 */
export function effectiveConfig(base, o) {
  const c = JSON.parse(JSON.stringify(base)); // a deep copy: the parsed YAML is plain data
  c.electronDist = o.electronDist;
  c.directories = { ...c.directories, output: o.outDir };
  if (!o.rebuild) c.npmRebuild = false;
  // Without an update address the app gets no update source at all (the updater then stays off).
  if (!o.env.CHATSAFE_UPDATE_URL) delete c.publish;
  if (o.release) {
    // A release that would come out unsigned fails instead.
    c.mac = { ...c.mac, forceCodeSigning: true };
    c.win = { ...c.win, forceCodeSigning: true };
    if (o.windowsSigning === 'azure') {
      const { signtoolOptions, ...win } = c.win;
      c.win = { ...win, azureSignOptions: azureSignOptions(o.env, signtoolOptions.publisherName[0]) };
    }
  } else {
    // Unsigned: no signing identity looked up in the keychain, no notarization.
    c.mac = { ...c.mac, identity: null, notarize: false };
  }
  return c;
}
