/**
 * What the vault keeps, behind one interface with two implementations:
 * SQLite (one machine) and PostgreSQL (several stateless nodes). Every
 * operation that decides about guesses is a single atomic statement or
 * transaction, so parallel requests on any number of nodes cannot get more
 * guesses than the limit. Blobs are already sealed under the master key.
 */

export type PendingKind = 'login' | 'register' | 'grant';

/** A login in progress, a registration in progress, or a post-login grant: one-time, short-lived. */
export interface PendingRow {
  /** SHA-256 of the one-time token the client holds; the token itself is never stored. */
  readonly idHash: string;
  readonly kind: PendingKind;
  readonly accountId: string;
  readonly sealed: Buffer;
  readonly expiresAt: number;
}

export type ConsumeResult =
  | { kind: 'ok'; sealed: Buffer; attemptsUsed: number; maxAttempts: number; version: number }
  /** Every guess is used; the record still exists because a last attempt may still be in flight. */
  | { kind: 'exhausted' }
  | { kind: 'missing' };

export interface AuditEntry {
  readonly at: number;
  readonly accountId: string | null;
  readonly event: string;
  readonly outcome: string;
  readonly ip: string;
  readonly node: string;
}

export interface VaultStore {
  readonly kind: 'sqlite' | 'postgres';
  migrate(): Promise<void>;
  /** Returns the named value, storing `fresh` first if none exists (the first node to start wins). */
  getOrCreateMeta(name: string, fresh: Buffer): Promise<Buffer>;
  /** False when the id is taken (or was destroyed). */
  createAccount(id: string, sealed: Buffer, maxAttempts: number, now: number): Promise<boolean>;
  /**
   * New record for an existing account (password change): resets the counter and
   * moves the account to a new version, so that every login, grant and ticket
   * issued under `expectedVersion` stops working. 'stale' when the account has
   * been changed since `expectedVersion`.
   */
  replaceAccount(id: string, sealed: Buffer, now: number, expectedVersion: number): Promise<'replaced' | 'stale' | 'missing'>;
  /** The record's version (see replaceAccount), or undefined when the account does not exist. */
  accountVersion(id: string): Promise<number | undefined>;
  /**
   * Takes one guess atomically, before anything else is looked at, and in the
   * same transaction records the login as in flight (`attempt`, in state
   * 'starting' until `armLogin` stores its state), so that the lockout never
   * sees a spent last guess without its login.
   */
  consumeAttempt(id: string, now: number, attempt: { idHash: string; expiresAt: number }): Promise<ConsumeResult>;
  /** Stores the state of a login recorded by consumeAttempt, with its audit entry; false when that login is gone. */
  armLogin(idHash: string, sealed: Buffer, audit: AuditEntry): Promise<boolean>;
  /** Guesses still available, or undefined when the account does not exist. */
  attemptsLeft(id: string): Promise<number | undefined>;
  /** Deletes the record for good when every guess is used and no login on it is still in flight. */
  destroyIfExhausted(id: string, now: number): Promise<boolean>;
  /** The holder's own deletion (after a successful login), only while the account is at `expectedVersion`. */
  deleteAccount(id: string, expectedVersion: number): Promise<'deleted' | 'stale' | 'missing'>;
  isDestroyed(id: string): Promise<boolean>;
  /** Stores a one-time token's state, with its audit entry in the same transaction. */
  putPending(row: PendingRow, audit?: AuditEntry): Promise<void>;
  /**
   * Claims a one-time token for its account, once. A login moves to "finishing"
   * (still counted as in flight until `settleLogin`); other kinds are deleted.
   */
  claimPending(idHash: string, kind: PendingKind, accountId: string, now: number, finishingTtlMs: number): Promise<Buffer | undefined>;
  /**
   * A successful login, in one transaction: resets the counter, ends the login
   * in flight, stores the grant and the audit entry. The reset comes first so a
   * concurrent failure never sees "exhausted and nothing in flight". Only while
   * the account is still at `version` (the one the login started on): otherwise
   * nothing but the end of the login is recorded and the answer is false.
   */
  completeLogin(accountId: string, loginIdHash: string, grant: PendingRow, audit: AuditEntry, now: number, version: number): Promise<boolean>;
  /** Ends a login in flight (after its outcome is recorded). */
  settleLogin(idHash: string): Promise<void>;
  sweep(now: number): Promise<void>;
  audit(entry: AuditEntry): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
