/**
 * Opening what the app is pointed at: a storage address (folder, s3://,
 * webdav+https://) or a `.chatsafe` bundle file, with a key or a password
 * (the vault client turns a password slot into the root key).
 */
import { promises as fs } from 'node:fs';
import { RootKey } from '../core/keys/root-key.js';
import type { Credential, VaultUnlocker } from '../core/repo/repository.js';
import type { StorageBackend } from '../core/storage/backend.js';
import { openBackend } from '../core/storage/open.js';
import { fetchKeyFromVault } from '../core/vault/client.js';
import type { CredentialInput } from './contract.js';
import { profileIdOf, type Destination } from './storage-profiles.js';

export type { Destination };

/**
 * Opens a destination. Its credentials (from a saved profile) take the place
 * of the environment's; without them the environment's are used, as the CLI
 * does.
 */
export function openStorage(dest: Destination, signal?: AbortSignal): StorageBackend {
  if (profileIdOf(dest.address) !== null) throw new Error('a profile address must be resolved before it is opened');
  return openBackend(dest.address, { env: { ...process.env, ...dest.credentials }, ...(signal ? { signal } : {}) });
}

/** A destination typed or picked as an address, with no saved credentials. */
export function addressOnly(address: string): Destination {
  return { address, credentials: {} };
}

/** A bundle is a regular file; a repository is a folder or a remote address. */
export async function isBundleFile(address: string): Promise<boolean> {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(address)) return false;
  const st = await fs.stat(address).catch(() => null);
  return st?.isFile() ?? false;
}

export const vaultUnlocker: VaultUnlocker = async (slot, password) =>
  RootKey.fromBytes(await fetchKeyFromVault({ vaultUrl: slot.vault.url, accountId: slot.vault.accountId }, password));

export function toCredential(input: CredentialInput): Credential {
  return input.kind === 'key' ? { kind: 'key', key: RootKey.parse(input.key), typed: input.key } : { kind: 'password', password: input.password };
}
