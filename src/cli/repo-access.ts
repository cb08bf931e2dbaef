/**
 * Opening repositories from command-line options: the storage address, the
 * credential, and the vault client for password slots.
 */
import { UsageError } from '../core/errors.js';
import { defaultIndexCacheDir } from '../core/repo/index-cache.js';
import { Repository } from '../core/repo/repository.js';
import { cliVaultUnlocker } from './vault-access.js';
import type { StorageBackend } from '../core/storage/backend.js';
import { LocalFolderBackend } from '../core/storage/local-folder.js';
import { resolve } from 'node:path';
import { getCredential } from './credentials.js';
import type { CliIO } from './io.js';

/** Options every command that opens a repository accepts (for util.parseArgs). */
export const REPO_OPTIONS = {
  repo: { type: 'string' },
  'key-file': { type: 'string' },
  password: { type: 'boolean', default: false },
  json: { type: 'boolean', default: false },
} as const;

export interface RepoArgs {
  repo?: string;
  'key-file'?: string;
  password?: boolean;
}

export function requireRepoAddress(values: RepoArgs, io: CliIO): string {
  const repo = values.repo ?? io.env.CHATSAFE_REPO;
  if (!repo) throw new UsageError('Which repository? Pass --repo PATH (or set CHATSAFE_REPO).');
  return repo;
}

/** A folder path, s3://BUCKET/PREFIX?endpoint=…, or webdav+https://HOST/PATH (docs/STORAGE.md). */
export async function openBackend(address: string, io: CliIO): Promise<StorageBackend> {
  // The cloud clients are large; a folder repository should not pay for loading them.
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(address) && address.trim() !== '' && !address.includes('\0')) return new LocalFolderBackend(resolve(address));
  const { openBackend: openStorage } = await import('../core/storage/open.js');
  return openStorage(address, { env: io.env, configFile: io.env.CHATSAFE_CREDENTIALS_FILE, signal: io.signal });
}

export async function openRepo(values: RepoArgs, io: CliIO): Promise<Repository> {
  const backend = await openBackend(requireRepoAddress(values, io), io);
  const credential = await getCredential({ keyFile: values['key-file'], password: values.password }, io);
  const repo = await Repository.open(backend, credential, cliVaultUnlocker(io));
  repo.useIndexCache(defaultIndexCacheDir(io.env));
  return repo;
}

const MAX_COUNT = 999_999;

export function parseCount(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new UsageError(`--${name} must be a whole number of at least 1 (got "${value}").`);
  if (Number(value) > MAX_COUNT) throw new UsageError(`--${name} must be at most ${MAX_COUNT} (got "${value}").`);
  return Number(value);
}
