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
