/**
 * The key vault client: keeps the root key K behind a password in a vault
 * that learns neither (OPAQUE, RFC 9807, with argon2id stretching here on the
 * client). See docs/VAULT.md for the protocol.
 */
import * as opaque from '@serenity-kit/opaque';
import { ChatsafeError, WrongKeyError, UsageError } from '../errors.js';
import { openRootKey, sealRootKey } from './key-envelope.js';
import { assessPassword as assess, type PasswordAssessment } from './password-strength.js';
import {
  DeleteAccountResponse,
  LoginAbandonResponse,
  LoginFinishResponse,
  LoginStartResponse,
  PasswordStartResponse,
  RegisterFinishResponse,
  RegisterStartResponse,
  ROUTES,
  type ErrorBody,
  type KeyStretching,
} from './protocol.js';
import { parseVaultUrl, postJson, type VaultAnswer } from './transport.js';

export interface VaultAccount {
  readonly vaultUrl: string;
  readonly accountId: string;
}

export interface VaultClientOptions {
  signal?: AbortSignal;
  /** Trust a private CA for https. */
  caCertPath?: string;
  /**
   * Test suites only: register with (and accept) an argon2id setting so weak
   * that a stolen vault database would fall to a dictionary attack quickly.
   * Never set this outside tests.
   */
  testOnlyWeakKeyStretching?: boolean;
}

const ROOT_KEY_BYTES = 32;

type KsfConfig = NonNullable<opaque.client.FinishLoginParams['keyStretching']>;

/** argon2id settings behind each profile name (memory in KiB). */
function ksfConfig(profile: KeyStretching, opts: VaultClientOptions): KsfConfig {
  if (profile === 'test-only-weak') {
    if (!opts.testOnlyWeakKeyStretching) {
      throw new ChatsafeError('unsupported', 'The key vault asks for a key stretching setting meant only for tests.', 'This account was created by a test suite; do not use it for real backups.');
    }
    return { 'argon2id-custom': { iterations: 1, memory: 1024, parallelism: 1 } };
  }
  return profile; // 'memory-constrained': argon2id t=3, 64 MiB; 'rfc-recommended': t=1, 2 GiB
}

function defaultProfile(opts: VaultClientOptions): KeyStretching {
  return opts.testOnlyWeakKeyStretching ? 'test-only-weak' : 'memory-constrained';
}

export function assessPassword(password: string): PasswordAssessment {
  return assess(password);
}

function lockedOut(lastAttempt: boolean): ChatsafeError {
  return new ChatsafeError(
    'locked-out',
    `${lastAttempt ? 'Wrong password, and that was the last attempt. ' : ''}The key vault has destroyed this backup's key after too many wrong passwords. The key is gone for good: no password can open this backup any more.`,
    'If you kept the 64-digit key for this backup, it is the only way back: use it with --key-file or CHATSAFE_KEY. Without it the backup cannot be restored.',
  );
}

function wrongPassword(attemptsLeft: number): WrongKeyError {
  const left = attemptsLeft === 1 ? '1 attempt left' : `${attemptsLeft} attempts left`;
  return new WrongKeyError(
    `Wrong password: ${left} before the vault destroys the key for good.`,
    attemptsLeft <= 3
      ? 'Be careful: if you are not sure of the password, stop and use the 64-digit key instead if you kept it.'
      : 'Check the password (Caps Lock, keyboard layout) and try again.',
    { attemptsLeft },
  );
}

/** Turns a vault's error answer into the error the user sees. */
function vaultError(vaultUrl: string, answer: { status: number; body: ErrorBody }): ChatsafeError {
  const origin = parseVaultUrl(vaultUrl).origin;
  switch (answer.body.error) {
    case 'locked-out':
      return lockedOut(false);
    case 'wrong-password':
      return wrongPassword(answer.body.attemptsLeft ?? 0);
    case 'not-found':
      return new ChatsafeError('not-found', `The key vault at ${origin} has no account for this backup.`, 'Check the vault address recorded for this backup; if the account was deleted, use the 64-digit key if you kept it.');
    case 'busy':
      return new ChatsafeError('conflict', 'Another password attempt on this account is still in progress at the vault.', 'Wait a minute and try again.');
    case 'rate-limited':
      return new ChatsafeError('conflict', `The key vault at ${origin} is limiting requests right now.`, 'Wait a minute and try again.');
    case 'internal':
      return new ChatsafeError('io', `The key vault at ${origin} failed (HTTP ${answer.status}).`, 'Try again later; if it persists, tell the vault operator.');
    default:
      return new ChatsafeError('unsupported', `The key vault at ${origin} refused the request (${answer.body.error}: ${answer.body.message.slice(0, 200)}).`, 'Update Chatsafe, or ask the vault operator which version the vault runs.');
  }
}

function expectOk<T>(vaultUrl: string, answer: VaultAnswer<T>): T {
  if (!answer.ok) throw vaultError(vaultUrl, answer);
  return answer.body;
}

function checkRootKey(rootKey: Buffer): void {
  if (!Buffer.isBuffer(rootKey) || rootKey.length !== ROOT_KEY_BYTES) throw new UsageError(`The root key must be ${ROOT_KEY_BYTES} bytes.`);
}

function checkNewPassword(password: string): void {
  const a = assess(password);
  if (!a.acceptable) throw new UsageError(`The password is too weak for the key vault. ${a.feedback}`, 'Choose a longer password, for example four unrelated words.');
}

function checkAccount(account: VaultAccount): void {
  parseVaultUrl(account.vaultUrl);
  if (!/^[0-9a-f]{32}$/.test(account.accountId)) throw new ChatsafeError('integrity', 'The vault account id recorded for this backup is malformed.', 'The key slot is damaged; use the 64-digit key if you kept it.');
}

/** Runs the OPAQUE registration (new account, or a password change when given a grant) and stores K under the new export key. */
async function register(vaultUrl: string, password: string, rootKey: Buffer, opts: VaultClientOptions, change?: { accountId: string; grant: string }): Promise<string> {
  await opaque.ready;
  const { clientRegistrationState, registrationRequest } = opaque.client.startRegistration({ password });
  const keyStretching = defaultProfile(opts);
  const started = change
    ? expectOk(vaultUrl, await postJson(vaultUrl, ROUTES.passwordStart, { ...change, registrationRequest, keyStretching }, PasswordStartResponse, opts))
    : expectOk(vaultUrl, await postJson(vaultUrl, ROUTES.registerStart, { registrationRequest, keyStretching }, RegisterStartResponse, opts));
  if (change && started.accountId !== change.accountId) throw new ChatsafeError('integrity', 'The key vault answered for another account.', 'Check the vault address; nothing was changed.');
  const { registrationRecord, exportKey } = opaque.client.finishRegistration({
    clientRegistrationState,
    registrationResponse: started.registrationResponse,
    password,
    keyStretching: ksfConfig(keyStretching, opts),
  });
  const sealedKey = sealRootKey(exportKey, started.accountId, rootKey);
  const route = change ? ROUTES.passwordFinish : ROUTES.registerFinish;
  const done = expectOk(vaultUrl, await postJson(vaultUrl, route, { ticket: started.ticket, accountId: started.accountId, registrationRecord, sealedKey }, RegisterFinishResponse, opts));
  return done.accountId;
}

/** An OPAQUE login: consumes one guess at the vault; on success yields K and a one-time grant. */
async function login(account: VaultAccount, password: string, opts: VaultClientOptions): Promise<{ rootKey: Buffer; grant: string }> {
  checkAccount(account);
  await opaque.ready;
  const { vaultUrl, accountId } = account;
  const { clientLoginState, startLoginRequest } = opaque.client.startLogin({ password });
  const started = expectOk(vaultUrl, await postJson(vaultUrl, ROUTES.loginStart, { accountId, startLoginRequest }, LoginStartResponse, opts));
  const abandon = async () => expectOk(vaultUrl, await postJson(vaultUrl, ROUTES.loginAbandon, { accountId, attemptId: started.attemptId }, LoginAbandonResponse, opts));
  let finished: opaque.client.FinishLoginResult | undefined;
  try {
    finished = opaque.client.finishLogin({ clientLoginState, loginResponse: started.loginResponse, password, keyStretching: ksfConfig(started.keyStretching, opts) });
  } catch (e) {
    await abandon();
    throw e;
  }
  if (!finished) {
    // The password is wrong: tell the vault now so the attempt is settled (and,
    // on the last one, the record destroyed) without waiting for a timeout.
    const settled = await abandon();
    if (settled.destroyed) throw lockedOut(true);
    throw wrongPassword(settled.attemptsLeft);
  }
  const answer = await postJson(vaultUrl, ROUTES.loginFinish, { accountId, attemptId: started.attemptId, finishLoginRequest: finished.finishLoginRequest }, LoginFinishResponse, opts);
  if (!answer.ok && answer.body.error === 'locked-out') throw lockedOut(true);
  const body = expectOk(vaultUrl, answer);
  return { rootKey: openRootKey(finished.exportKey, accountId, body.sealedKey), grant: body.grant };
}

/** Registers a new account holding K behind the password; returns where it lives. */
export async function storeKeyInVault(vaultUrl: string, password: string, rootKey: Buffer, opts: VaultClientOptions = {}): Promise<VaultAccount> {
  checkRootKey(rootKey);
  checkNewPassword(password);
  const url = parseVaultUrl(vaultUrl);
  const normalized = url.origin + url.pathname.replace(/\/+$/, '');
  const accountId = await register(normalized, password, rootKey, opts);
  return { vaultUrl: normalized, accountId };
}

/**
 * Logs in and returns K. Wrong password: WrongKeyError with attemptsLeft.
 * Destroyed: ChatsafeError 'locked-out'. Unreachable vault: 'io'.
 */
export async function fetchKeyFromVault(account: VaultAccount, password: string, opts: VaultClientOptions = {}): Promise<Buffer> {
  const { rootKey } = await login(account, password, opts);
  if (rootKey.length !== ROOT_KEY_BYTES) throw new ChatsafeError('integrity', 'The key vault returned a key of the wrong size.', 'The vault record is damaged; use the 64-digit key if you kept it.');
  return rootKey;
}

/** Re-registers the same K under a new password after a successful login with the old one. */
export async function changeVaultPassword(account: VaultAccount, oldPassword: string, newPassword: string, opts: VaultClientOptions = {}): Promise<void> {
  checkNewPassword(newPassword);
  const { rootKey, grant } = await login(account, oldPassword, opts);
  try {
    await register(account.vaultUrl, newPassword, rootKey, opts, { accountId: account.accountId, grant });
  } finally {
    rootKey.fill(0);
  }
}

export async function deleteVaultAccount(account: VaultAccount, password: string, opts: VaultClientOptions = {}): Promise<void> {
  const { rootKey, grant } = await login(account, password, opts);
  rootKey.fill(0);
  expectOk(account.vaultUrl, await postJson(account.vaultUrl, ROUTES.deleteAccount, { accountId: account.accountId, grant }, DeleteAccountResponse, opts));
}
