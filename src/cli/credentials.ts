/**
 * Where the CLI gets the key: --key-file, CHATSAFE_KEY, or a hidden prompt;
 * never a command-line argument (argv is visible to other users). Password
 * mode: CHATSAFE_PASSWORD or a prompt.
 */
import { constants as fsc, promises as fs } from 'node:fs';
import { ChatsafeError, UsageError } from '../core/errors.js';
import { RootKey } from '../core/keys/root-key.js';
import type { Credential } from '../core/repo/repository.js';
import type { CliIO } from './io.js';
import { promptHidden } from './prompt.js';

export interface CredentialOptions {
  readonly keyFile?: string;
  readonly password?: boolean;
}

/** A key file is 80 characters or so; anything much longer is not one. */
const MAX_KEY_FILE_BYTES = 4096;

/**
 * Opened without blocking and checked to be a regular file before anything is read: a FIFO
 * waited for a writer that never came, with no signal able to end the wait, and a device
 * (`/dev/zero`) was read until memory ran out.
 */
export async function readKeyFile(path: string): Promise<string> {
  let fh: fs.FileHandle;
  try {
    fh = await fs.open(path, fsc.O_RDONLY | (fsc.O_NONBLOCK ?? 0));
  } catch (e) {
    throw new ChatsafeError('usage', `Cannot read the key file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}.`, 'Check the path given to --key-file.');
  }
  try {
    const st = await fh.stat();
    if (st.isDirectory()) throw new ChatsafeError('usage', `${path} is a folder, not a key file.`, 'Give --key-file the file that holds the 64-digit key.');
    if (!st.isFile()) throw new ChatsafeError('usage', `${path} is not a regular file, so it cannot be a key file.`, 'Give --key-file the file that holds the 64-digit key.');
    // One byte more than allowed tells a file that is too large from one that is just large enough.
    const buf = Buffer.alloc(MAX_KEY_FILE_BYTES + 1);
    let got = 0;
    while (got < buf.length) {
      const { bytesRead } = await fh.read(buf, got, buf.length - got, got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    try {
      if (got > MAX_KEY_FILE_BYTES) throw new ChatsafeError('usage', `${path} is too large to be a key file.`, 'A key file holds the 64-digit key and nothing else.');
      return buf.toString('utf8', 0, got);
    } finally {
      buf.fill(0);
    }
  } catch (e) {
    if (e instanceof ChatsafeError) throw e;
    throw new ChatsafeError('usage', `Cannot read the key file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}.`, 'Check the path given to --key-file.');
  } finally {
    await fh.close().catch(() => undefined);
  }
}

/** --key-file, checked before anything else: an empty one or one beside --password was silently ignored. */
export function checkKeyFileOption(opts: CredentialOptions): void {
  if (opts.keyFile === undefined) return;
  if (opts.keyFile === '') throw new UsageError('--key-file needs a file name.', 'Pass --key-file FILE, or leave it out to use CHATSAFE_KEY or the prompt.');
  if (opts.password) throw new UsageError('Give --key-file or --password, not both.', 'A repository opens with its 64-digit key (--key-file) or with a password (--password).');
}

export async function getCredential(opts: CredentialOptions, io: CliIO): Promise<Credential> {
  checkKeyFileOption(opts);
  if (opts.password) return { kind: 'password', password: await getPassword(io) };
  let typed: string;
  if (opts.keyFile !== undefined) typed = await readKeyFile(opts.keyFile);
  else if (io.env.CHATSAFE_KEY) typed = io.env.CHATSAFE_KEY;
  else if (io.env.CHATSAFE_PASSWORD !== undefined) return { kind: 'password', password: io.env.CHATSAFE_PASSWORD };
  else {
    typed = await promptHidden(io, 'Enter the 64-digit key: ');
    if (typed.trim() === '') throw new UsageError('No key was typed.', 'Type the 64-digit key at the prompt, pass --key-file FILE, or set CHATSAFE_KEY.');
  }
  return { kind: 'key', key: RootKey.parse(typed), typed };
}

export async function getPassword(io: CliIO, question = 'Password: '): Promise<string> {
  if (io.env.CHATSAFE_PASSWORD !== undefined) return io.env.CHATSAFE_PASSWORD;
  return promptHidden(io, question);
}

/**
 * A new password: CHATSAFE_PASSWORD for scripts, otherwise asked twice at the
 * terminal with strength feedback. Very weak passwords are refused: the vault
 * allows only a few guesses, but a weak password falls to the first few.
 */
export async function getNewPassword(io: CliIO, envName = 'CHATSAFE_PASSWORD'): Promise<string> {
  const { assessPassword } = await import('../core/vault/client.js');
  const fromEnv = io.env[envName];
  if (fromEnv !== undefined) {
    const a = assessPassword(fromEnv);
    if (!a.acceptable) throw new ChatsafeError('usage', `The password in ${envName} is too weak: ${a.feedback}`, 'Choose a longer password: several unrelated words work well.');
    return fromEnv;
  }
  for (let attempt = 0; attempt < 3; attempt++) {
    const pw = await promptHidden(io, 'New password: ');
    const a = assessPassword(pw);
    io.stderr.write(`Strength: ${['very weak', 'weak', 'fair', 'good', 'strong'][a.score]}. ${a.feedback}\n`);
    if (!a.acceptable) continue;
    const again = await promptHidden(io, 'Type it again: ');
    if (again !== pw) {
      io.stderr.write('The two passwords differ; try again.\n');
      continue;
    }
    return pw;
  }
  throw new ChatsafeError('usage', 'No acceptable password was given.', 'Run the command again and choose a longer password.');
}
