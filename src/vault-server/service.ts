/**
 * The vault's protocol logic, independent of HTTP: OPAQUE registration and
 * login, guess accounting, lockout, password change and deletion. Every
 * handler takes a validated request and returns the response body or throws
 * a VaultHttpError; http.ts maps those to statuses.
 *
 * Order of operations at login start, which is what makes guessing bounded:
 * the guess is consumed in the database first (one atomic statement, which
 * also records the login as in flight), and only then is the record unwrapped
 * and the OPAQUE message evaluated.
 *
 * Logins, grants and password-change tickets carry the version of the record
 * they were issued for; a password change moves the record to a new version,
 * so nothing obtained with the old password works after it.
 */
import { hostname } from 'node:os';
import * as opaque from '@serenity-kit/opaque';
import type { z } from 'zod';
import type {
  DeleteAccountRequest,
  ErrorCode,
  KeyStretching,
  LoginAbandonRequest,
  LoginFinishRequest,
  LoginStartRequest,
  PasswordStartRequest,
  RegisterFinishRequest,
  RegisterStartRequest,
} from '../core/vault/protocol.js';
import type { Logger } from './logger.js';
import type { MasterKey } from './master-key.js';
import type { AuditEntry, VaultStore } from './store/store.js';
import { newAccountId, newToken, tokenHash } from './tokens.js';

export class VaultHttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly attemptsLeft?: number,
    readonly retryAfter?: number,
  ) {
    super(message);
  }
}

export interface VaultServiceOptions {
  maxAttempts: number;
  /** How long a client has between the two login messages. */
  loginTimeoutMs: number;
  /** How long a registration ticket or a post-login grant stays valid. */
  ticketTimeoutMs: number;
}

interface AccountRecord {
  v: 1;
  registrationRecord: string;
  sealedKey: string;
  keyStretching: KeyStretching;
}

interface LoginState {
  serverLoginState: string;
  sealedKey: string;
  /** Absent in states stored before records had versions, which were all version 0. */
  version?: number;
}

interface RegisterState {
  purpose: 'new' | 'change';
  keyStretching: KeyStretching;
  /** For a change: the record version the grant was issued for. */
  version?: number;
}

interface GrantState {
  version?: number;
}

/** How long one health check answers for: however often /healthz is polled, a node does at most one store and one HSM round trip per period. */
export const HEALTH_MAX_AGE_MS = 5_000;

export interface Health {
  status: 'ok';
  store: string;
  masterKey: string;
  node: string;
  /** When the store and the HSM were last checked (ISO 8601). */
  checkedAt: string;
}

type Req<S extends z.ZodType> = z.infer<S>;

const SERVER_SETUP = 'opaque-server-setup';

export class VaultService {
  readonly node = `${hostname()}:${process.pid}`;

  private constructor(
    private readonly store: VaultStore,
    private readonly master: MasterKey,
    private readonly log: Logger,
    private readonly opts: VaultServiceOptions,
    private readonly serverSetup: string,
  ) {}

  /** Loads (or, on a fresh database, creates) the OPAQUE server setup, sealed under the master key. */
  static async create(store: VaultStore, master: MasterKey, log: Logger, opts: VaultServiceOptions): Promise<VaultService> {
    await opaque.ready;
    await store.migrate();
    const context = `meta:${SERVER_SETUP}`;
    const sealed = await store.getOrCreateMeta(SERVER_SETUP, master.seal(Buffer.from(opaque.server.createSetup()), context));
    const setup = master.open(sealed, context).toString('utf8');
    return new VaultService(store, master, log, opts, setup);
  }

  private seal(value: unknown, context: string): Buffer {
    return this.master.seal(Buffer.from(JSON.stringify(value)), context);
  }

  private open<T>(sealed: Buffer, context: string): T {
    return JSON.parse(this.master.open(sealed, context).toString('utf8')) as T;
  }

  /** Logs an audit entry and returns it for the store (alone, or inside the transaction it belongs to). */
  private auditEntry(ip: string, accountId: string | null, event: string, outcome: string): AuditEntry {
    this.log.info('audit', { audit: true, event, outcome, account: accountId, ip, node: this.node });
    return { at: Date.now(), accountId, event, outcome, ip, node: this.node };
  }

  private async audit(ip: string, accountId: string | null, event: string, outcome: string): Promise<void> {
    await this.store.audit(this.auditEntry(ip, accountId, event, outcome));
  }

  /** OPAQUE library errors mean the client sent a malformed message. */
  private opaqueCall<T>(what: string, fn: () => T): T {
    try {
      return fn();
    } catch {
      throw new VaultHttpError(400, 'bad-request', `Malformed ${what}.`);
    }
  }

  private async issueRegistration(accountId: string, registrationRequest: string, state: RegisterState) {
    const { registrationResponse } = this.opaqueCall('registration request', () =>
      opaque.server.createRegistrationResponse({ serverSetup: this.serverSetup, userIdentifier: accountId, registrationRequest }),
    );
    const ticket = newToken();
    const idHash = tokenHash(ticket);
    await this.store.putPending({ idHash, kind: 'register', accountId, sealed: this.seal(state, `pending:${idHash}`), expiresAt: Date.now() + this.opts.ticketTimeoutMs });
    return { accountId, ticket, registrationResponse };
  }

  async registerStart(req: Req<typeof RegisterStartRequest>, ip: string) {
    const accountId = newAccountId();
    const out = await this.issueRegistration(accountId, req.registrationRequest, { purpose: 'new', keyStretching: req.keyStretching });
    await this.audit(ip, accountId, 'register-start', 'ok');
    return out;
  }

  /** Finishes a registration; `purpose` keeps a new-account ticket from replacing a record and the reverse. */
  async registerFinish(req: Req<typeof RegisterFinishRequest>, ip: string, purpose: RegisterState['purpose']) {
    const idHash = tokenHash(req.ticket);
    const sealed = await this.store.claimPending(idHash, 'register', req.accountId, Date.now(), 0);
    if (!sealed) throw new VaultHttpError(400, 'invalid-attempt', 'Unknown, used or expired registration ticket.');
    const state = this.open<RegisterState>(sealed, `pending:${idHash}`);
    if (state.purpose !== purpose) throw new VaultHttpError(400, 'invalid-attempt', 'This ticket is for another kind of registration.');
    const record: AccountRecord = { v: 1, registrationRecord: req.registrationRecord, sealedKey: req.sealedKey, keyStretching: state.keyStretching };
    const sealedRecord = this.seal(record, `account:${req.accountId}`);
    const now = Date.now();
    if (purpose === 'new') {
      if (!(await this.store.createAccount(req.accountId, sealedRecord, this.opts.maxAttempts, now))) throw new VaultHttpError(409, 'conflict', 'This account already exists.');
      await this.audit(ip, req.accountId, 'register', 'created');
    } else {
      const replaced = await this.store.replaceAccount(req.accountId, sealedRecord, now, state.version ?? 0);
      if (replaced === 'missing') return this.missing(req.accountId);
      if (replaced === 'stale') {
        await this.audit(ip, req.accountId, 'password-change', 'stale');
        throw new VaultHttpError(400, 'invalid-attempt', 'The password was changed since this ticket was issued; log in again.');
      }
      await this.audit(ip, req.accountId, 'password-change', 'changed');
    }
    return { accountId: req.accountId };
  }

  /** Answer for an account that has no record: destroyed for good, or never existed. */
  private async missing(accountId: string): Promise<never> {
    if (await this.store.isDestroyed(accountId)) throw new VaultHttpError(410, 'locked-out', 'This account was destroyed after too many wrong passwords.');
    throw new VaultHttpError(404, 'not-found', 'No such account.');
  }

  async loginStart(req: Req<typeof LoginStartRequest>, ip: string) {
    const { accountId } = req;
    const now = Date.now();
    const attemptId = newToken();
    const idHash = tokenHash(attemptId);
    const taken = await this.store.consumeAttempt(accountId, now, { idHash, expiresAt: now + this.opts.loginTimeoutMs });
    if (taken.kind === 'missing') {
      await this.audit(ip, accountId, 'login-start', 'no-account');
      return this.missing(accountId);
    }
    if (taken.kind === 'exhausted') {
      if (await this.store.destroyIfExhausted(accountId, now)) {
        await this.audit(ip, accountId, 'lockout', 'destroyed');
        throw new VaultHttpError(410, 'locked-out', 'This account was destroyed after too many wrong passwords.');
      }
      if ((await this.store.attemptsLeft(accountId)) === undefined) return this.missing(accountId);
      await this.audit(ip, accountId, 'login-start', 'busy');
      throw new VaultHttpError(429, 'busy', 'No guess is left while the last attempt is still in flight; try again in a minute.', 0, Math.ceil(this.opts.loginTimeoutMs / 1000));
    }
    const attemptsLeft = taken.maxAttempts - taken.attemptsUsed;
    // From here on the guess is spent, whatever the outcome.
    let started: opaque.server.LoginStartResult;
    let record: AccountRecord;
    try {
      record = this.open<AccountRecord>(taken.sealed, `account:${accountId}`);
      started = this.opaqueCall('login request', () =>
        opaque.server.startLogin({ serverSetup: this.serverSetup, registrationRecord: record.registrationRecord, startLoginRequest: req.startLoginRequest, userIdentifier: accountId }),
      );
    } catch (e) {
      await this.audit(ip, accountId, 'login-start', 'malformed');
      await this.store.settleLogin(idHash);
      if (await this.store.destroyIfExhausted(accountId, Date.now())) await this.audit(ip, accountId, 'lockout', 'destroyed');
      throw e;
    }
    const state: LoginState = { serverLoginState: started.serverLoginState, sealedKey: record.sealedKey, version: taken.version };
    const armed = await this.store.armLogin(idHash, this.seal(state, `pending:${idHash}`), this.auditEntry(ip, accountId, 'login-start', `attempt-${taken.attemptsUsed}-of-${taken.maxAttempts}`));
    // Gone only if it outlived its deadline or the account was deleted meanwhile.
    if (!armed) throw new VaultHttpError(400, 'invalid-attempt', 'This login ended before it could start; start a new login.');
    return { attemptId, loginResponse: started.loginResponse, keyStretching: record.keyStretching, attemptsLeft };
  }

  /** Claims the login in flight: exactly once, for this account, before its deadline. */
  private async claimLogin(attemptId: string, accountId: string): Promise<{ idHash: string; state: LoginState }> {
    const idHash = tokenHash(attemptId);
    const sealed = await this.store.claimPending(idHash, 'login', accountId, Date.now(), this.opts.loginTimeoutMs);
    if (!sealed) throw new VaultHttpError(400, 'invalid-attempt', 'Unknown, finished or expired login attempt; start a new login.');
    return { idHash, state: this.open<LoginState>(sealed, `pending:${idHash}`) };
  }

  /** Records a failed attempt; destroys the record when it was the last guess. */
  private async failLogin(ip: string, accountId: string, idHash: string, outcome: string): Promise<{ attemptsLeft: number; destroyed: boolean }> {
    await this.store.settleLogin(idHash);
    const destroyed = await this.store.destroyIfExhausted(accountId, Date.now());
    await this.audit(ip, accountId, 'login', outcome);
    if (destroyed) await this.audit(ip, accountId, 'lockout', 'destroyed');
    return { attemptsLeft: destroyed ? 0 : ((await this.store.attemptsLeft(accountId)) ?? 0), destroyed };
  }

  async loginFinish(req: Req<typeof LoginFinishRequest>, ip: string) {
    const { accountId } = req;
    const { idHash, state } = await this.claimLogin(req.attemptId, accountId);
    let ok = false;
    try {
      opaque.server.finishLogin({ serverLoginState: state.serverLoginState, finishLoginRequest: req.finishLoginRequest });
      ok = true;
    } catch {
      // a wrong password and a forged or garbled message look the same, by design
    }
    if (!ok) {
      const failed = await this.failLogin(ip, accountId, idHash, 'wrong-password');
      if (failed.destroyed) throw new VaultHttpError(410, 'locked-out', 'Wrong password; that was the last attempt and the account is now destroyed.');
      throw new VaultHttpError(401, 'wrong-password', 'Wrong password.', failed.attemptsLeft);
    }
    const grant = newToken();
    const grantHash = tokenHash(grant);
    const now = Date.now();
    const version = state.version ?? 0;
    const completed = await this.store.completeLogin(
      accountId,
      idHash,
      { idHash: grantHash, kind: 'grant', accountId, sealed: this.seal({ version } satisfies GrantState, `pending:${grantHash}`), expiresAt: now + this.opts.ticketTimeoutMs },
      this.auditEntry(ip, accountId, 'login', 'success'),
      now,
      version,
    );
    if (!completed) {
      // The password was changed while this login was in flight: the old password must not open K or earn a grant any more.
      const failed = await this.failLogin(ip, accountId, idHash, 'password-changed');
      if (failed.destroyed) throw new VaultHttpError(410, 'locked-out', 'This account was destroyed after too many wrong passwords.');
      throw new VaultHttpError(400, 'invalid-attempt', 'The password was changed during this login; log in with the new password.');
    }
    return { sealedKey: state.sealedKey, grant };
  }

  async loginAbandon(req: Req<typeof LoginAbandonRequest>, ip: string) {
    const { idHash } = await this.claimLogin(req.attemptId, req.accountId);
    return this.failLogin(ip, req.accountId, idHash, 'wrong-password-client');
  }

  /** Claims a grant once; returns the record version it was issued for. */
  private async useGrant(grant: string, accountId: string): Promise<number> {
    const idHash = tokenHash(grant);
    const sealed = await this.store.claimPending(idHash, 'grant', accountId, Date.now(), 0);
    if (!sealed) throw new VaultHttpError(403, 'invalid-attempt', 'Unknown, used or expired grant; log in again.');
    return this.open<GrantState>(sealed, `pending:${idHash}`).version ?? 0;
  }

  private staleGrant(): VaultHttpError {
    return new VaultHttpError(403, 'invalid-attempt', 'The password was changed since this grant was issued; log in again.');
  }

  async passwordStart(req: Req<typeof PasswordStartRequest>, ip: string) {
    const version = await this.useGrant(req.grant, req.accountId);
    const current = await this.store.accountVersion(req.accountId);
    if (current === undefined) return this.missing(req.accountId);
    // Checked again, atomically, when the change is finished; this only fails early.
    if (current !== version) throw this.staleGrant();
    const out = await this.issueRegistration(req.accountId, req.registrationRequest, { purpose: 'change', keyStretching: req.keyStretching, version });
    await this.audit(ip, req.accountId, 'password-change-start', 'ok');
    return out;
  }

  async deleteAccount(req: Req<typeof DeleteAccountRequest>, ip: string) {
    const version = await this.useGrant(req.grant, req.accountId);
    const deleted = await this.store.deleteAccount(req.accountId, version);
    if (deleted === 'missing') return this.missing(req.accountId);
    if (deleted === 'stale') throw this.staleGrant();
    await this.audit(ip, req.accountId, 'delete', 'deleted');
    return { deleted: true as const };
  }

  private lastHealth: { at: number; result: Promise<Health> } | undefined;

  /**
   * Store and HSM both answer. The answer (or failure) of one check is shared
   * by every caller for HEALTH_MAX_AGE_MS, including callers that arrive while
   * it runs, so polling /healthz cannot be turned into database and HSM load.
   */
  health(): Promise<Health> {
    const now = Date.now();
    if (!this.lastHealth || now - this.lastHealth.at >= HEALTH_MAX_AGE_MS) this.lastHealth = { at: now, result: this.checkHealth(now) };
    return this.lastHealth.result;
  }

  private async checkHealth(now: number): Promise<Health> {
    await this.store.ping();
    const probe = Buffer.from('healthz');
    if (!this.master.open(this.master.seal(probe, 'healthz'), 'healthz').equals(probe)) throw new Error('master key round trip failed');
    return { status: 'ok', store: this.store.kind, masterKey: this.master.kind, node: this.node, checkedAt: new Date(now).toISOString() };
  }

  async sweep(): Promise<void> {
    await this.store.sweep(Date.now());
  }
}
