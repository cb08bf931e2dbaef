/**
 * Password mode in the CLI: where the vault is, how to trust it, and turning
 * a password slot into the root key through the vault client (loaded only
 * when a password is actually used).
 */
import type { KeySlot } from '../core/keys/slots.js';
import { RootKey } from '../core/keys/root-key.js';
import type { VaultUnlocker } from '../core/repo/repository.js';
import type { VaultClientOptions } from '../core/vault/client.js';
import type { CliIO } from './io.js';

export const DEFAULT_VAULT_URL = 'http://127.0.0.1:8787';

export function vaultUrlFrom(flag: string | undefined, io: CliIO): string {
  return flag ?? io.env.CHATSAFE_VAULT_URL ?? DEFAULT_VAULT_URL;
}

/** CHATSAFE_VAULT_CA trusts a private CA; CHATSAFE_VAULT_TEST_WEAK_KDF=1 is for the test suite only. */
export function vaultOptions(io: CliIO): VaultClientOptions {
  return {
    signal: io.signal,
    ...(io.env.CHATSAFE_VAULT_CA ? { caCertPath: io.env.CHATSAFE_VAULT_CA } : {}),
    ...(io.env.CHATSAFE_VAULT_TEST_WEAK_KDF === '1' ? { testOnlyWeakKeyStretching: true } : {}),
  };
}

export function cliVaultUnlocker(io: CliIO): VaultUnlocker {
  return async (slot: Extract<KeySlot, { kind: 'password' }>, password: string) => {
    const { fetchKeyFromVault } = await import('../core/vault/client.js');
    const k = await fetchKeyFromVault({ vaultUrl: slot.vault.url, accountId: slot.vault.accountId }, password, vaultOptions(io));
    try {
      return RootKey.fromBytes(k);
    } finally {
      k.fill(0);
    }
  };
}
