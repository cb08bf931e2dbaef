/**
 * Whether Electron's safeStorage really protects what it seals. On Linux,
 * when no secret service (GNOME libsecret, KWallet) is reachable, Chromium
 * falls back to `basic_text`: encryption "works", with a password written in
 * Chromium's source, and protects nothing. An `unknown` backend gives no
 * such promise either. Both count as no keychain: the settings store then
 * keeps secrets in its file, mode 0600, as the web mode does, and Settings
 * says so, instead of pretending they are sealed.
 */

/** Linux secret stores that keep the key outside the app's reach. */
const PROTECTING_LINUX_BACKENDS: ReadonlySet<string> = new Set(['gnome_libsecret', 'kwallet', 'kwallet5', 'kwallet6']);

export interface KeychainFacts {
  readonly platform: NodeJS.Platform;
  /** `safeStorage.isEncryptionAvailable()`. */
  readonly encryptionAvailable: boolean;
  /** `safeStorage.getSelectedStorageBackend()` on Linux; null elsewhere (the call exists only there). */
  readonly linuxBackend: string | null;
}

export function keychainProtects(facts: KeychainFacts): boolean {
  if (!facts.encryptionAvailable) return false;
  if (facts.platform !== 'linux') return true;
  return facts.linuxBackend !== null && PROTECTING_LINUX_BACKENDS.has(facts.linuxBackend);
}
