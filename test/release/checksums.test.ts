/**
 * SHA256SUMS and its detached GPG signature (scripts/release/checksums.mjs),
 * checked the way a user checks a download: `sha256sum -c` and `gpg --verify`.
 * The key is a throwaway one made in a temporary GNUPGHOME, with a passphrase,
 * and the gpg-agent is told to cache nothing, so a wrong passphrase really fails.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { tempDir } from '../helpers/tmp.js';
import { cleanEnv, electronDist, runScript } from './release-scripts.js';

const hasGpg = spawnSync('gpg', ['--version']).status === 0;
const hasSha256sum = spawnSync('sha256sum', ['--version']).status === 0;
const skip = !hasGpg ? 'gpg is not installed (Debian: gnupg, listed in .ci/apt-packages.txt)' : !hasSha256sum ? 'sha256sum (coreutils) is not installed' : false;
const PASSPHRASE = 'release passphrase 7';

let tmp: { dir: string; cleanup: () => void };
let home = '';
let fingerprint = '';

function gpg(args: string[], input?: string) {
  return spawnSync('gpg', ['--batch', '--no-tty', ...args], { env: cleanEnv({ GNUPGHOME: home }), input, encoding: 'utf8' });
}

/** A folder of dummy installers (and files that are not installers). */
function artifacts(name: string): string {
  const dir = join(tmp.dir, name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'Chatsafe-0.1.0.AppImage'), Buffer.alloc(300_000, 7));
  writeFileSync(join(dir, 'chatsafe_0.1.0_amd64.deb'), 'a deb');
  writeFileSync(join(dir, 'Chatsafe Setup 0.1.0.exe'), 'an installer with spaces in its name');
  writeFileSync(join(dir, 'latest-linux.yml'), 'update metadata, not an installer');
  writeFileSync(join(dir, 'Chatsafe-0.1.0.AppImage.blockmap'), 'block map');
  return dir;
}

const sign = (dir: string, passphrase: string) =>
  runScript('scripts/release/checksums.mjs', [dir, '--sign'], cleanEnv({ GNUPGHOME: home, CHATSAFE_GPG_KEY_ID: fingerprint, CHATSAFE_GPG_PASSPHRASE: passphrase }));

describe('checksums and their signature', { skip }, () => {
  before(() => {
    tmp = tempDir('chatsafe-gpg-');
    home = join(tmp.dir, 'gnupg');
    mkdirSync(home);
    chmodSync(home, 0o700);
    writeFileSync(join(home, 'gpg-agent.conf'), 'default-cache-ttl 0\nmax-cache-ttl 0\n');
    const made = gpg(['--pinentry-mode', 'loopback', '--passphrase-fd', '0', '--quick-gen-key', 'Chatsafe test release key <release@example.invalid>', 'ed25519', 'sign', '1d'], `${PASSPHRASE}\n`);
    assert.equal(made.status, 0, made.stderr);
    const listed = gpg(['--list-secret-keys', '--with-colons']);
    fingerprint = /^fpr:+([0-9A-F]{40}):/m.exec(listed.stdout)?.[1] ?? '';
    assert.match(fingerprint, /^[0-9A-F]{40}$/);
  });
  after(() => {
    if (home) spawnSync('gpgconf', ['--kill', 'gpg-agent'], { env: cleanEnv({ GNUPGHOME: home }) });
    tmp?.cleanup();
  });

  test('SHA256SUMS lists the installers only, and sha256sum -c accepts it', () => {
    const dir = artifacts('plain');
    const r = runScript('scripts/release/checksums.mjs', [dir], cleanEnv());
    assert.equal(r.status, 0, r.stderr);
    const lines = readFileSync(join(dir, 'SHA256SUMS'), 'utf8').trimEnd().split('\n');
    assert.deepEqual(lines.map((l) => l.slice(66)), ['Chatsafe Setup 0.1.0.exe', 'Chatsafe-0.1.0.AppImage', 'chatsafe_0.1.0_amd64.deb']);
    for (const l of lines) assert.match(l, /^[0-9a-f]{64} {2}\S/);
    assert.equal(existsSync(join(dir, 'SHA256SUMS.asc')), false, 'no signature without --sign');
    const check = spawnSync('sha256sum', ['-c', 'SHA256SUMS'], { cwd: dir, encoding: 'utf8' });
    assert.equal(check.status, 0, check.stdout + check.stderr);
  });

  test('signed: gpg --verify accepts the signature; a changed installer or list is caught', () => {
    const dir = artifacts('signed');
    const r = sign(dir, PASSPHRASE);
    assert.equal(r.status, 0, r.stderr);
    const asc = readFileSync(join(dir, 'SHA256SUMS.asc'), 'utf8');
    assert.match(asc, /^-----BEGIN PGP SIGNATURE-----\n[\s\S]+-----END PGP SIGNATURE-----\n$/);
    const verify = () => gpg(['--verify', join(dir, 'SHA256SUMS.asc'), join(dir, 'SHA256SUMS')]);
    const good = verify();
    assert.equal(good.status, 0, good.stderr);
    assert.match(good.stderr, new RegExp(`Good signature from "Chatsafe test release key`));
    assert.match(good.stderr, new RegExp(fingerprint.slice(-16)));

    writeFileSync(join(dir, 'chatsafe_0.1.0_amd64.deb'), 'a deb, changed');
    assert.notEqual(spawnSync('sha256sum', ['-c', 'SHA256SUMS'], { cwd: dir }).status, 0, 'a changed installer fails the checksum');

    const sums = readFileSync(join(dir, 'SHA256SUMS'), 'utf8');
    writeFileSync(join(dir, 'SHA256SUMS'), sums.replace(/^[0-9a-f]{64}/, '0'.repeat(64)));
    const bad = verify();
    assert.notEqual(bad.status, 0, 'a changed SHA256SUMS fails the signature');
    assert.match(bad.stderr, /BAD signature/);
  });

  test('a wrong passphrase: exit 1, a message with the hint, no signature file, no secret printed', () => {
    const dir = artifacts('wrong');
    const wrong = 'not the passphrase';
    const r = sign(dir, wrong);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^gpg could not sign SHA256SUMS: .*Bad passphrase/m);
    assert.match(r.stderr, /Check CHATSAFE_GPG_KEY_ID .* and CHATSAFE_GPG_PASSPHRASE\.$/m);
    assert.doesNotMatch(r.stderr, /^\s+at /m);
    assert.ok(!r.stderr.includes(wrong) && !r.stdout.includes(wrong));
    assert.equal(existsSync(join(dir, 'SHA256SUMS.asc')), false);
    assert.deepEqual(
      spawnSync('ls', ['-A', dir], { encoding: 'utf8' }).stdout.split('\n').filter((n) => n.includes('.tmp-')),
      [],
      'no temporary file left',
    );
  });

  test('npm run dist in release mode checks the signing key before building', { skip: process.platform === 'linux' ? false : 'the GPG key is checked on Linux releases' }, () => {
    const env = { CHATSAFE_RELEASE: '1', GNUPGHOME: home, CHATSAFE_GPG_PASSPHRASE: PASSPHRASE, CHATSAFE_UPDATE_URL: 'https://updates.example.invalid/chatsafe/' };
    const unknown = runScript('scripts/dist.mjs', [], cleanEnv({ ...env, CHATSAFE_GPG_KEY_ID: '0123456789ABCDEF0123456789ABCDEF01234567' }));
    assert.equal(unknown.status, 2);
    assert.equal(unknown.stderr, 'Release build stopped: CHATSAFE_GPG_KEY_ID names no secret key in the GPG keyring (GNUPGHOME, if set, picks the keyring).\n');
    if (electronDist()) return; // with the key right, the real build would start here
    const known = runScript('scripts/dist.mjs', [], cleanEnv({ ...env, CHATSAFE_GPG_KEY_ID: fingerprint }));
    assert.equal(known.status, 1, 'past the release checks, stopped only by the missing Electron binary');
    assert.match(known.stderr, /^Cannot build installers: no Electron binary/);
    assert.doesNotMatch(known.stdout, /Unsigned/);
  });
});
