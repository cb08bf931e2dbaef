import { constants as fsc, promises as fs } from 'node:fs';
import { parseArgs } from '../args.js';
import { ChatsafeError, UsageError } from '../../core/errors.js';
import { RootKey } from '../../core/keys/root-key.js';
import { Repository } from '../../core/repo/repository.js';
import type { Command } from '../command.js';
import { printJson, type CliIO } from '../io.js';
import { openBackend, requireRepoAddress } from '../repo-access.js';
import { checkKeyFileOption, getNewPassword } from '../credentials.js';
import { DEFAULT_VAULT_URL, vaultOptions, vaultUrlFrom } from '../vault-access.js';

export const initCommand: Command = {
  name: 'init',
  summary: 'create an encrypted repository and its 64-digit key',
  usage: `Usage: chatsafe init --repo PATH [--key-file FILE] [--json]
       chatsafe init --repo PATH --password [--vault URL] [--json]

Creates an empty repository and a new random 64-digit key. The key is printed
once: write it down or keep it in a password manager. Without it (or the
password, in password mode) nobody can restore the backup, including us.

  --key-file FILE  write the key to FILE (created with mode 0600) instead of printing it
  --password       protect the key with a password instead: the key is kept by the key
                   vault, which never learns the password and destroys the key after
                   10 wrong guesses. The password comes from a prompt (twice) or from
                   CHATSAFE_PASSWORD. Keep a 64-digit key as well with \`chatsafe key add\`.
  --vault URL      the key vault (default: CHATSAFE_VAULT_URL, else ${DEFAULT_VAULT_URL})
  --json           print {"repo", "keyFile"} as JSON (the key is never printed with --json;
                   use --key-file)`,
  async run(args: string[], io: CliIO): Promise<number> {
    const { values, positionals } = parseArgs({
      args,
      options: { repo: { type: 'string' }, 'key-file': { type: 'string' }, json: { type: 'boolean', default: false }, password: { type: 'boolean', default: false }, vault: { type: 'string' } },
      allowPositionals: true,
    });
    if (positionals.length > 0) throw new UsageError(`Unexpected argument "${positionals[0]}".`, 'Run `chatsafe init --help`.');
    const address = requireRepoAddress(values, io);
    const keyFile = values['key-file'];
    checkKeyFileOption({ keyFile, password: values.password });
    if (values.password) return initWithPassword(address, values.vault, values.json ?? false, io);
    if (values.vault) throw new UsageError('--vault goes with --password.');
    if (values.json && !keyFile) throw new UsageError('--json needs --key-file: the key is never printed in JSON output.');
    const key = RootKey.generate();
    // The address is checked first: a key file left by a refused address made the retry fail ("already exists").
    const backend = await openBackend(address, io);
    if (keyFile) await writeKeyFile(keyFile, key);
    try {
      await Repository.init(backend, key);
    } catch (e) {
      if (keyFile) await fs.rm(keyFile, { force: true });
      throw e;
    }
    if (values.json) {
      printJson(io, { repo: backend.location, keyFile });
    } else if (keyFile) {
      io.stdout.write(`Created repository ${backend.location}.\nThe key is in ${keyFile}. Keep a copy somewhere safe and separate from the backup.\n`);
    } else {
      io.stdout.write(
        `Created repository ${backend.location}.\n\nYour 64-digit key:\n\n    ${key.toDisplayString()}\n\n` +
          `Write it down or store it in a password manager NOW. It is shown only this once.\n` +
          `Without it nobody can restore this backup, not even Chatsafe.\n`,
      );
    }
    return 0;
  },
};

async function initWithPassword(address: string, vaultFlag: string | undefined, json: boolean, io: CliIO): Promise<number> {
  const vaultUrl = vaultUrlFrom(vaultFlag, io);
  const backend = await openBackend(address, io);
  const existing = await backend.stat('config', 'config').catch(() => null);
  if (existing) throw new ChatsafeError('conflict', `A repository already exists at ${backend.location}.`, 'Choose another place, or use the existing repository.');
  const password = await getNewPassword(io);
  const { storeKeyInVault } = await import('../../core/vault/client.js');
  const key = RootKey.generate();
  const account = await key.use((bytes) => storeKeyInVault(vaultUrl, password, Buffer.from(bytes), vaultOptions(io)));
  await Repository.init(backend, key, { url: account.vaultUrl, accountId: account.accountId });
  if (json) printJson(io, { repo: backend.location, vault: account.vaultUrl });
  else {
    io.stdout.write(
      `Created repository ${backend.location}, protected by your password.\n` +
        `The key is kept by the key vault at ${account.vaultUrl}; after 10 wrong passwords it is destroyed.\n` +
        `To keep a way back that needs no password, also make a 64-digit key: chatsafe key add --repo ${address} --password\n`,
    );
  }
  return 0;
}

export async function writeKeyFile(path: string, key: RootKey): Promise<void> {
  try {
    const fh = await fs.open(path, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL, 0o600);
    try {
      await fh.writeFile(`${key.toDisplayString()}\n`);
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new ChatsafeError('conflict', `${path} already exists; refusing to overwrite a key file.`, 'Choose another file name.');
    throw new ChatsafeError('io', `Cannot write the key file ${path}: ${code ?? (e as Error).message}.`, 'Check the folder exists and you may write to it.');
  }
}
