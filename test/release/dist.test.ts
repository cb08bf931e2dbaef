/**
 * `npm run dist` (scripts/dist.mjs) before it builds anything: in release mode
 * missing signing variables stop it with exit code 2 and one message naming
 * them, without a stack trace; the per-platform rules of that check; and the
 * one-line answer when there is no Electron binary to package.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { builderConfig, builderSchema, cleanEnv, electronDist, loadEffectiveConfig, loadReleaseEnv, runScript } from './release-scripts.js';

const STACK = /^\s+at .+[(:]\d+/m;

/** The variables a release on this host needs (release-env.mjs), for the host-specific assertions. */
const HOST_VARIABLES: Record<string, string[]> = {
  linux: ['CHATSAFE_GPG_KEY_ID', 'CHATSAFE_GPG_PASSPHRASE', 'CHATSAFE_UPDATE_URL'],
  darwin: ['CSC_LINK', 'CSC_KEY_PASSWORD', 'APPLE_API_KEY', 'APPLE_API_KEY_ID', 'APPLE_API_ISSUER', 'CHATSAFE_UPDATE_URL'],
  win32: ['CSC_LINK', 'CSC_KEY_PASSWORD', 'CHATSAFE_UPDATE_URL'],
};

describe('npm run dist in release mode', () => {
  const needed = HOST_VARIABLES[process.platform];

  test('with no signing variables: exit 2, every missing one named with what it is, no stack trace', { skip: needed ? false : `no installers are built on ${process.platform}` }, () => {
    const r = runScript('scripts/dist.mjs', [], cleanEnv({ CHATSAFE_RELEASE: '1' }));
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stdout, '', 'nothing was built or started');
    for (const name of needed ?? []) assert.match(r.stderr, new RegExp(`^  ${name} +\\S.+$`, 'm'), `${name} is named with an explanation`);
    assert.match(r.stderr, /^Release build stopped \(CHATSAFE_RELEASE=1\)/);
    assert.doesNotMatch(r.stderr, STACK);
    assert.doesNotMatch(r.stderr, /Error:/);
  });

  test('names only what is missing, and never prints a value', { skip: process.platform === 'linux' ? false : 'the Linux variables are checked on Linux' }, () => {
    const secret = 'correct horse battery staple';
    const r = runScript('scripts/dist.mjs', [], cleanEnv({ CHATSAFE_RELEASE: '1', CHATSAFE_GPG_PASSPHRASE: secret, CHATSAFE_UPDATE_URL: 'http://updates.example.invalid/' }));
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^ {2}CHATSAFE_GPG_KEY_ID /m);
    assert.doesNotMatch(r.stderr, /^ {2}CHATSAFE_GPG_PASSPHRASE /m);
    assert.match(r.stderr, /CHATSAFE_UPDATE_URL +is not an https:\/\/ URL/);
    assert.ok(!r.stderr.includes(secret) && !r.stderr.includes('updates.example.invalid'), 'values are not echoed');
  });

  test('an unknown option is a usage error', () => {
    const r = runScript('scripts/dist.mjs', ['--sign-with-magic'], cleanEnv());
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^usage: node scripts\/dist\.mjs .*unknown: --sign-with-magic/);
  });

  test('without an Electron binary: one line saying so, non-zero exit', { skip: electronDist() ? 'an Electron binary is available here' : false }, () => {
    const r = runScript('scripts/dist.mjs', ['--no-build'], cleanEnv());
    assert.equal(r.status, 1);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /^Cannot build installers: no Electron binary on this machine \(set ELECTRON_OVERRIDE_DIST_PATH/);
    assert.match(r.stdout, /^Unsigned |^$/);
  });
});

describe('release variables per platform', () => {
  test('Windows: signtool by default, Azure Trusted Signing when its variables are set, either one complete is enough', async () => {
    const { checkReleaseEnv } = await loadReleaseEnv();
    const url = { CHATSAFE_UPDATE_URL: 'https://updates.example.invalid/chatsafe/' };
    const none = checkReleaseEnv('win32', url);
    assert.equal(none.ok, false);
    if (!none.ok) {
      assert.deepEqual(none.missing.map((v) => v.name), ['CSC_LINK', 'CSC_KEY_PASSWORD']);
      assert.match(none.message, /Or sign with Azure Trusted Signing instead: set AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET, AZURE_TRUSTED_SIGNING_ENDPOINT/);
    }
    const partAzure = checkReleaseEnv('win32', { ...url, AZURE_TENANT_ID: 't', AZURE_CLIENT_ID: 'c' });
    assert.equal(partAzure.ok, false);
    if (!partAzure.ok) {
      assert.deepEqual(partAzure.missing.map((v) => v.name), ['AZURE_CLIENT_SECRET', 'AZURE_TRUSTED_SIGNING_ENDPOINT', 'AZURE_TRUSTED_SIGNING_ACCOUNT', 'AZURE_TRUSTED_SIGNING_PROFILE']);
      assert.doesNotMatch(partAzure.message, /CSC_LINK/);
    }
    assert.deepEqual(checkReleaseEnv('win32', { ...url, CSC_LINK: 'cert.pfx', CSC_KEY_PASSWORD: 'p' }), { ok: true, platform: 'win32', windowsSigning: 'signtool' });
    const azure = { AZURE_TENANT_ID: 't', AZURE_CLIENT_ID: 'c', AZURE_CLIENT_SECRET: 's', AZURE_TRUSTED_SIGNING_ENDPOINT: 'e', AZURE_TRUSTED_SIGNING_ACCOUNT: 'a', AZURE_TRUSTED_SIGNING_PROFILE: 'p' };
    assert.deepEqual(checkReleaseEnv('win32', { ...url, ...azure }), { ok: true, platform: 'win32', windowsSigning: 'azure' });
  });

  test('macOS: the certificate and the notarization key, all five', async () => {
    const { checkReleaseEnv } = await loadReleaseEnv();
    const r = checkReleaseEnv('darwin', { CSC_LINK: 'id.p12', APPLE_API_KEY: '   ' });
    assert.equal(r.ok, false);
    if (!r.ok) assert.deepEqual(r.missing.map((v) => v.name), ['CSC_KEY_PASSWORD', 'APPLE_API_KEY', 'APPLE_API_KEY_ID', 'APPLE_API_ISSUER', 'CHATSAFE_UPDATE_URL'], 'blank counts as missing');
    const all = { CSC_LINK: 'id.p12', CSC_KEY_PASSWORD: 'p', APPLE_API_KEY: 'k.p8', APPLE_API_KEY_ID: 'K', APPLE_API_ISSUER: 'I', CHATSAFE_UPDATE_URL: 'https://u.example.invalid/' };
    assert.equal(checkReleaseEnv('darwin', all).ok, true);
  });

  test('another host platform is refused by name', async () => {
    const { checkReleaseEnv } = await loadReleaseEnv();
    const r = checkReleaseEnv('freebsd', {});
    assert.equal(r.ok, false);
    if (!r.ok) assert.match(r.message, /Windows, macOS or Linux, not on freebsd/);
  });
});

describe('the configuration a build uses', () => {
  const common = { electronDist: '/opt/electron', outDir: '/tmp/out', rebuild: true };

  test('unsigned: no signing identity, no notarization, no update source without an address', async () => {
    const { effectiveConfig } = await loadEffectiveConfig();
    const base = builderConfig();
    const c = effectiveConfig(base, { ...common, env: {}, release: false, windowsSigning: null });
    assert.equal(c.mac.identity, null);
    assert.equal(c.mac.notarize, false);
    assert.equal('publish' in c, false);
    assert.equal(c.electronDist, '/opt/electron');
    assert.equal(c.directories.output, '/tmp/out');
    assert.equal(c.npmRebuild, true);
    assert.equal(c.mac.hardenedRuntime, true, 'the rest is the file\'s');
    assert.deepEqual(base, builderConfig(), 'the parsed file is not changed');
    assert.equal(effectiveConfig(base, { ...common, rebuild: false, env: {}, release: false, windowsSigning: null }).npmRebuild, false);
    const validate = builderSchema();
    assert.equal(validate(c), true, JSON.stringify(validate.errors));
  });

  test('release: signing forced, notarization kept, the update source kept', async () => {
    const { effectiveConfig } = await loadEffectiveConfig();
    const c = effectiveConfig(builderConfig(), { ...common, env: { CHATSAFE_UPDATE_URL: 'https://u.example.invalid/' }, release: true, windowsSigning: 'signtool' });
    assert.equal(c.mac.forceCodeSigning, true);
    assert.equal(c.win.forceCodeSigning, true);
    assert.equal(c.mac.notarize, true);
    assert.equal('identity' in c.mac, false);
    assert.deepEqual(c.publish, { provider: 'generic', url: '${env.CHATSAFE_UPDATE_URL}' });
    assert.ok(c.win.signtoolOptions);
    assert.equal(c.win.azureSignOptions, undefined);
  });

  test('release with Azure Trusted Signing: its options from the environment, the same publisher name', async () => {
    const { effectiveConfig } = await loadEffectiveConfig();
    const base = builderConfig();
    const env = { AZURE_TRUSTED_SIGNING_ENDPOINT: 'https://weu.codesigning.example.invalid', AZURE_TRUSTED_SIGNING_ACCOUNT: 'acct', AZURE_TRUSTED_SIGNING_PROFILE: 'prof' };
    const c = effectiveConfig(base, { ...common, env, release: true, windowsSigning: 'azure' });
    assert.equal(c.win.signtoolOptions, undefined);
    assert.deepEqual(c.win.azureSignOptions, {
      publisherName: base.win.signtoolOptions.publisherName[0],
      endpoint: env.AZURE_TRUSTED_SIGNING_ENDPOINT,
      codeSigningAccountName: 'acct',
      certificateProfileName: 'prof',
    });
    const validate = builderSchema();
    assert.equal(validate(c), true, JSON.stringify(validate.errors));
  });
});
