/**
 * Where the CLI gets the key: --key-file, CHATSAFE_KEY, or a hidden prompt;
 * never a command-line argument (argv is visible to other users). Password
 * mode: CHATSAFE_PASSWORD or a prompt.
 */
import { promises as fs } from 'node:fs';
import { ChatsafeError } from '../core/errors.js';
import { RootKey } from '../core/keys/root-key.js';
import type { Credential } from '../core/repo/repository.js';
import type { CliIO } from './io.js';
import { promptHidden } from './prompt.js';

export interface CredentialOptions {
  readonly keyFile?: string;
  readonly password?: boolean;
}

export async function readKeyFile(path: string): Promise<string> {
  try {
    const st = await fs.stat(path);
    if (st.size > 4096) throw new ChatsafeError('usage', `${path} is too large to be a key file.`, 'A key file holds the 64-digit key and nothing else.');
    return await fs.readFile(path, 'utf8');
  } catch (e) {
    if (e instanceof ChatsafeError) throw e;
    throw new ChatsafeError('usage', `Cannot read the key file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}.`, 'Check the path given to --key-file.');
  }
}

export async function getCredential(opts: CredentialOptions, io: CliIO): Promise<Credential> {
  if (opts.password) return { kind: 'password', password: await getPassword(io) };
  let typed: string;
  if (opts.keyFile) typed = await readKeyFile(opts.keyFile);
  else if (io.env.CHATSAFE_KEY) typed = io.env.CHATSAFE_KEY;
  else if (io.env.CHATSAFE_PASSWORD !== undefined) return { kind: 'password', password: io.env.CHATSAFE_PASSWORD };
  else typed = await promptHidden(io, 'Enter the 64-digit key: ');
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
