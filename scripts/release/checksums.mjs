// SHA256SUMS for the installers of a build, and its detached, ASCII-armored
// GPG signature (SHA256SUMS.asc). A user checks a download with
//   sha256sum -c --ignore-missing SHA256SUMS && gpg --verify SHA256SUMS.asc SHA256SUMS
//
//   node scripts/release/checksums.mjs DIR [--sign]
//
// --sign takes the key from CHATSAFE_GPG_KEY_ID and its passphrase from
// CHATSAFE_GPG_PASSPHRASE (handed to gpg on a pipe, never on the command
// line); GNUPGHOME, when set, picks the keyring. Both files are written under
// a temporary name and renamed when complete, so a failed run leaves none.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The files a user downloads (not the update metadata or block maps). */
export const ARTIFACT_EXTENSIONS = Object.freeze(['.AppImage', '.deb', '.exe', '.dmg', '.zip']);

export function listArtifacts(dir) {
  return readdirSync(dir)
    .filter((name) => ARTIFACT_EXTENSIONS.some((ext) => name.endsWith(ext)) && statSync(join(dir, name)).isFile())
    .sort();
}

async function sha256(path) {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk);
  return hash.digest('hex');
}

/**
 * Writes DIR/SHA256SUMS in the format of `sha256sum` (hash, two spaces, name).
 * @returns {Promise<{ path: string, files: string[] }>}
 */
export async function writeChecksums(dir, files = listArtifacts(dir)) {
  if (files.length === 0) throw new ReleaseError(`no installers in ${dir} to write checksums for`, 'Build them first (npm run dist).');
  const lines = [];
  for (const name of files) {
    // sha256sum escapes these; our artifact names never contain them, so refuse rather than escape.
    if (name !== basename(name) || /[\n\r\\]/.test(name)) throw new ReleaseError(`unexpected artifact file name ${JSON.stringify(name)}`, 'Rename the file: no folders, line breaks or backslashes.');
    lines.push(`${await sha256(join(dir, name))}  ${name}\n`);
  }
  const path = join(dir, 'SHA256SUMS');
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, lines.join(''));
  // A signature of an older SHA256SUMS must not sit next to the new one.
  rmSync(`${path}.asc`, { force: true });
  renameSync(tmp, path);
  return { path, files };
}

/**
 * Signs FILE with a detached ASCII-armored signature, FILE.asc.
 * @param {string} file
 * @param {{ keyId: string, passphrase: string, env?: NodeJS.ProcessEnv }} key
 */
export function signDetached(file, key) {
  const out = `${file}.asc`;
  const tmp = `${out}.tmp-${process.pid}`;
  const r = spawnSync(
    'gpg',
    ['--batch', '--yes', '--no-tty', '--pinentry-mode', 'loopback', '--passphrase-fd', '0', '--local-user', key.keyId, '--armor', '--detach-sign', '--output', tmp, file],
    { input: `${key.passphrase}\n`, env: key.env ?? process.env, encoding: 'utf8' },
  );
  if (r.error || r.status !== 0) {
    rmSync(tmp, { force: true });
    if (r.error && /** @type {NodeJS.ErrnoException} */ (r.error).code === 'ENOENT') throw new ReleaseError('gpg is not installed', 'Install GnuPG (Debian: apt-get install gnupg) to sign the checksums.');
    // gpg's own words say which key or passphrase was wrong; they hold neither secret.
    const said = (r.stderr || '').trim().split('\n').filter(Boolean).slice(-2).join(' / ');
    throw new ReleaseError(`gpg could not sign ${basename(file)}${said ? `: ${said}` : ''}`, 'Check CHATSAFE_GPG_KEY_ID (the key must be in the keyring, with its secret part) and CHATSAFE_GPG_PASSPHRASE.');
  }
  renameSync(tmp, out);
  return out;
}

/** A failure the release scripts report in one message with a hint, without a stack trace. */
export class ReleaseError extends Error {
  constructor(message, hint) {
    super(message);
    this.name = 'ReleaseError';
    this.hint = hint;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const dir = args.find((a) => !a.startsWith('--'));
  if (!dir) {
    console.error('usage: node scripts/release/checksums.mjs DIR [--sign]');
    process.exit(2);
  }
  try {
    const { path, files } = await writeChecksums(resolve(dir));
    console.log(`wrote ${path} (${files.length} file${files.length === 1 ? '' : 's'})`);
    if (args.includes('--sign')) {
      const keyId = process.env.CHATSAFE_GPG_KEY_ID;
      const passphrase = process.env.CHATSAFE_GPG_PASSPHRASE;
      if (!keyId || passphrase === undefined) throw new ReleaseError('--sign needs CHATSAFE_GPG_KEY_ID and CHATSAFE_GPG_PASSPHRASE', 'Set both (docs/RELEASING.md).');
      console.log(`wrote ${signDetached(path, { keyId, passphrase })}`);
    }
  } catch (e) {
    if (!(e instanceof ReleaseError)) throw e;
    console.error(`${e.message}\n${e.hint}`);
    process.exit(1);
  }
}
