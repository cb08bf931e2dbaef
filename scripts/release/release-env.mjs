// What a signed release needs from the environment, per host platform, and the
// check scripts/dist.mjs runs before building anything in release mode
// (CHATSAFE_RELEASE=1). Values are never printed: only the names of the
// variables that are missing or malformed, and what each one is.

/** @typedef {{ name: string, what: string }} Variable */

/** @type {Variable} */
const UPDATE_URL = { name: 'CHATSAFE_UPDATE_URL', what: 'https address the installed app downloads updates from (where the release files are uploaded)' };

/** Windows through signtool: a code-signing certificate file. */
const SIGNTOOL = [
  { name: 'CSC_LINK', what: 'the Windows code-signing certificate (.pfx): a file path, or its base64 contents' },
  { name: 'CSC_KEY_PASSWORD', what: 'the password of that .pfx file' },
];

/** Windows through Azure Trusted Signing: the certificate stays in Azure. */
const AZURE = [
  { name: 'AZURE_TENANT_ID', what: 'the Microsoft Entra tenant of the signing app registration' },
  { name: 'AZURE_CLIENT_ID', what: 'the app registration (client) id allowed to sign' },
  { name: 'AZURE_CLIENT_SECRET', what: 'that app registration\'s client secret' },
  { name: 'AZURE_TRUSTED_SIGNING_ENDPOINT', what: 'the Trusted Signing account\'s regional endpoint URL' },
  { name: 'AZURE_TRUSTED_SIGNING_ACCOUNT', what: 'the Trusted Signing account name' },
  { name: 'AZURE_TRUSTED_SIGNING_PROFILE', what: 'the certificate profile name in that account' },
];

const MAC = [
  { name: 'CSC_LINK', what: 'the "Developer ID Application" certificate (.p12): a file path, or its base64 contents' },
  { name: 'CSC_KEY_PASSWORD', what: 'the password of that .p12 file' },
  { name: 'APPLE_API_KEY', what: 'path to the App Store Connect API key file (AuthKey_XXXX.p8) used for notarization' },
  { name: 'APPLE_API_KEY_ID', what: 'the id of that API key' },
  { name: 'APPLE_API_ISSUER', what: 'the issuer id (UUID) of that API key' },
];

const LINUX = [
  { name: 'CHATSAFE_GPG_KEY_ID', what: 'the GPG key (fingerprint or id, in the default or GNUPGHOME keyring) that signs SHA256SUMS' },
  { name: 'CHATSAFE_GPG_PASSPHRASE', what: 'the passphrase of that GPG key' },
];

export const PLATFORM_NAMES = Object.freeze({ win32: 'Windows', darwin: 'macOS', linux: 'Linux' });

/**
 * @typedef {{ ok: true, platform: string, windowsSigning: 'signtool' | 'azure' | null }
 *   | { ok: false, platform: string, missing: Variable[], invalid: Variable[], message: string }} ReleaseCheck
 */

/**
 * Checks the release variables for one host platform.
 * @param {string} platform process.platform of the build host
 * @param {Readonly<Record<string, string | undefined>>} env
 * @returns {ReleaseCheck}
 */
export function checkReleaseEnv(platform, env) {
  const name = PLATFORM_NAMES[/** @type {keyof typeof PLATFORM_NAMES} */ (platform)];
  if (!name) {
    return { ok: false, platform, missing: [], invalid: [], message: `Release build stopped: installers are built on Windows, macOS or Linux, not on ${platform}.` };
  }
  const set = (v) => typeof env[v.name] === 'string' && /** @type {string} */ (env[v.name]).trim() !== '';
  let needed;
  /** @type {'signtool' | 'azure' | null} */
  let windowsSigning = null;
  let alternative = '';
  if (platform === 'win32') {
    // Whichever way has any of its variables set is the one meant; with none, signtool is asked for.
    windowsSigning = AZURE.some(set) && !SIGNTOOL.every(set) ? 'azure' : 'signtool';
    needed = windowsSigning === 'azure' ? AZURE : SIGNTOOL;
    if (windowsSigning === 'signtool' && !SIGNTOOL.some(set)) {
      alternative = `\nOr sign with Azure Trusted Signing instead: set ${AZURE.map((v) => v.name).join(', ')}.`;
    }
  } else {
    needed = platform === 'darwin' ? MAC : LINUX;
  }
  const missing = [...needed, UPDATE_URL].filter((v) => !set(v));
  const invalid = set(UPDATE_URL) && !isHttpsUrl(/** @type {string} */ (env[UPDATE_URL.name])) ? [UPDATE_URL] : [];
  if (missing.length === 0 && invalid.length === 0) return { ok: true, platform, windowsSigning };

  const width = Math.max(...[...missing, ...invalid].map((v) => v.name.length));
  const lines = [`Release build stopped (CHATSAFE_RELEASE=1): a signed ${name} release needs these variables, which are not set:`];
  for (const v of missing) lines.push(`  ${v.name.padEnd(width)}  ${v.what}`);
  if (invalid.length > 0) {
    if (missing.length === 0) lines[0] = `Release build stopped (CHATSAFE_RELEASE=1): a variable of the signed ${name} release is not valid:`;
    for (const v of invalid) lines.push(`  ${v.name.padEnd(width)}  is not an https:// URL; it must be the ${v.what}`);
  }
  lines.push(`Set them and run again (docs/RELEASING.md lists every variable), or run without CHATSAFE_RELEASE for an unsigned build.${alternative}`);
  return { ok: false, platform, missing, invalid, message: lines.join('\n') };
}

/** The Azure Trusted Signing options electron-builder takes, from the environment. */
export function azureSignOptions(env, publisherName) {
  return {
    publisherName,
    endpoint: env.AZURE_TRUSTED_SIGNING_ENDPOINT,
    codeSigningAccountName: env.AZURE_TRUSTED_SIGNING_ACCOUNT,
    certificateProfileName: env.AZURE_TRUSTED_SIGNING_PROFILE,
  };
}

function isHttpsUrl(s) {
  try {
    const u = new URL(s);
    return u.protocol === 'https:' && u.hostname !== '';
  } catch {
    return false;
  }
}

/** True when the environment asks for a release build. */
export function isReleaseMode(env) {
  return env.CHATSAFE_RELEASE === '1' || env.CHATSAFE_RELEASE === 'true';
}
