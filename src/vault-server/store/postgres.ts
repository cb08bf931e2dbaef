/**
 * The vault store in PostgreSQL, shared by several stateless vault nodes.
 * Guess accounting relies on single-statement row updates (row locks plus
 * READ COMMITTED re-checking the WHERE clause), so N parallel logins across
 * any number of nodes consume exactly N guesses and never more than the limit.
 */
import pg from 'pg';
import { ChatsafeError } from '../../core/errors.js';
import type { AuditEntry, ConsumeResult, PendingKind, PendingRow, VaultStore } from './store.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS vault_meta (name TEXT PRIMARY KEY, value BYTEA NOT NULL);
CREATE TABLE IF NOT EXISTS vault_accounts (
  id TEXT PRIMARY KEY, sealed BYTEA NOT NULL,
  attempts_used INTEGER NOT NULL DEFAULT 0, max_attempts INTEGER NOT NULL,
  created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, last_attempt_at BIGINT,
  version INTEGER NOT NULL DEFAULT 0);
-- databases created before records had versions
ALTER TABLE vault_accounts ADD COLUMN IF NOT EXISTS version INTEGER NOT NULL DEFAULT 0;
CREATE TABLE IF NOT EXISTS vault_destroyed_accounts (id TEXT PRIMARY KEY, destroyed_at BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS vault_pending (
  id_hash TEXT PRIMARY KEY, kind TEXT NOT NULL, account_id TEXT NOT NULL,
  state TEXT NOT NULL DEFAULT 'pending', sealed BYTEA NOT NULL, expires_at BIGINT NOT NULL);
CREATE INDEX IF NOT EXISTS vault_pending_account ON vault_pending (account_id, kind);
CREATE TABLE IF NOT EXISTS vault_audit_log (
  seq BIGSERIAL PRIMARY KEY, at BIGINT NOT NULL, account_id TEXT,
  event TEXT NOT NULL, outcome TEXT NOT NULL, ip TEXT NOT NULL, node TEXT NOT NULL);
`;

/** Serializes schema creation when several nodes start at once. */
const MIGRATION_LOCK = 0x63686174;

export class PostgresStore implements VaultStore {
  readonly kind = 'postgres' as const;
  private readonly pool: pg.Pool;

  constructor(connectionString: string, maxConnections = 10) {
    this.pool = new pg.Pool({ connectionString, max: maxConnections, connectionTimeoutMillis: 10_000 });
    // An idle client losing its connection must not crash the node; the next query reconnects.
    this.pool.on('error', () => undefined);
  }

  private async q<R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<pg.QueryResult<R>> {
    try {
      return await this.pool.query<R>(text, values);
    } catch (e) {
      throw new ChatsafeError('io', `The vault database failed: ${(e as Error).message}.`, 'Check that PostgreSQL is reachable with the --db connection string.', { cause: e });
    }
  }

  async migrate(): Promise<void> {
    const client = await this.pool.connect().catch((e: unknown) => {
      throw new ChatsafeError('io', `Cannot connect to the vault database: ${(e as Error).message}.`, 'Check the --db postgres:// connection string and that PostgreSQL is running.', { cause: e });
    });
    try {
      await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
      await client.query(SCHEMA);
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
      client.release();
    }
  }

  async getOrCreateMeta(name: string, fresh: Buffer): Promise<Buffer> {
    await this.q('INSERT INTO vault_meta (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [name, fresh]);
    return (await this.q<{ value: Buffer }>('SELECT value FROM vault_meta WHERE name = $1', [name])).rows[0]!.value;
  }

  async createAccount(id: string, sealed: Buffer, maxAttempts: number, now: number): Promise<boolean> {
    const r = await this.q(
      `INSERT INTO vault_accounts (id, sealed, max_attempts, created_at, updated_at)
       SELECT $1, $2, $3, $4, $4 WHERE NOT EXISTS (SELECT 1 FROM vault_destroyed_accounts WHERE id = $1)
       ON CONFLICT (id) DO NOTHING`,
      [id, sealed, maxAttempts, now],
    );
    return r.rowCount === 1;
  }

  async replaceAccount(id: string, sealed: Buffer, now: number, expectedVersion: number): Promise<'replaced' | 'stale' | 'missing'> {
    // The version condition is re-checked on the latest row (READ COMMITTED), so a concurrent change or login completion cannot slip past it.
    const r = await this.q('UPDATE vault_accounts SET sealed = $1, attempts_used = 0, version = version + 1, updated_at = $2 WHERE id = $3 AND version = $4', [sealed, now, id, expectedVersion]);
    if (r.rowCount === 1) return 'replaced';
    return (await this.q('SELECT 1 FROM vault_accounts WHERE id = $1', [id])).rowCount === 1 ? 'stale' : 'missing';
  }

  async accountVersion(id: string): Promise<number | undefined> {
    return (await this.q<{ version: number }>('SELECT version FROM vault_accounts WHERE id = $1', [id])).rows[0]?.version;
  }

  async consumeAttempt(id: string, now: number, attempt: { idHash: string; expiresAt: number }): Promise<ConsumeResult> {
    // One statement: the login is in flight from the moment its guess is taken, for every other node.
    const r = await this.q<{ sealed: Buffer; attempts_used: number; max_attempts: number; version: number }>(
      `WITH taken AS (
         UPDATE vault_accounts SET attempts_used = attempts_used + 1, last_attempt_at = $1 WHERE id = $2 AND attempts_used < max_attempts
         RETURNING sealed, attempts_used, max_attempts, version),
       flight AS (INSERT INTO vault_pending (id_hash, kind, account_id, state, sealed, expires_at) SELECT $3, 'login', $2, 'starting', $4, $5 FROM taken)
       SELECT * FROM taken`,
      [now, id, attempt.idHash, Buffer.alloc(0), attempt.expiresAt],
    );
    const row = r.rows[0];
    if (row) return { kind: 'ok', sealed: row.sealed, attemptsUsed: row.attempts_used, maxAttempts: row.max_attempts, version: row.version };
    return (await this.q('SELECT 1 FROM vault_accounts WHERE id = $1', [id])).rowCount === 1 ? { kind: 'exhausted' } : { kind: 'missing' };
  }


  async attemptsLeft(id: string): Promise<number | undefined> {
    const row = (await this.q<{ left: number }>('SELECT max_attempts - attempts_used AS left FROM vault_accounts WHERE id = $1', [id])).rows[0];
    return row ? Math.max(0, row.left) : undefined;
  }

  async destroyIfExhausted(id: string, now: number): Promise<boolean> {
    const r = await this.q(
      `WITH gone AS (
         DELETE FROM vault_accounts WHERE id = $1 AND attempts_used >= max_attempts
           AND NOT EXISTS (SELECT 1 FROM vault_pending WHERE account_id = $1 AND kind = 'login' AND expires_at > $2)
         RETURNING id),
       tomb AS (INSERT INTO vault_destroyed_accounts (id, destroyed_at) SELECT id, $2 FROM gone ON CONFLICT (id) DO NOTHING),
       swept AS (DELETE FROM vault_pending WHERE account_id IN (SELECT id FROM gone))
       SELECT id FROM gone`,
      [id, now],
    );
    return r.rowCount === 1;
  }

  async deleteAccount(id: string, expectedVersion: number): Promise<'deleted' | 'stale' | 'missing'> {
    const r = await this.q(
      `WITH gone AS (DELETE FROM vault_accounts WHERE id = $1 AND version = $2 RETURNING id),
       swept AS (DELETE FROM vault_pending WHERE account_id IN (SELECT id FROM gone))
       SELECT id FROM gone`,
      [id, expectedVersion],
    );
    if (r.rowCount === 1) return 'deleted';
    return (await this.q('SELECT 1 FROM vault_accounts WHERE id = $1', [id])).rowCount === 1 ? 'stale' : 'missing';
  }

  async isDestroyed(id: string): Promise<boolean> {
    return (await this.q('SELECT 1 FROM vault_destroyed_accounts WHERE id = $1', [id])).rowCount === 1;
  }

  async putPending(row: PendingRow, audit?: AuditEntry): Promise<void> {
    if (!audit) {
      await this.q('INSERT INTO vault_pending (id_hash, kind, account_id, sealed, expires_at) VALUES ($1, $2, $3, $4, $5)', [row.idHash, row.kind, row.accountId, row.sealed, row.expiresAt]);
      return;
    }
    // One statement, one commit: the token and its audit entry.
    await this.q(
      `WITH p AS (INSERT INTO vault_pending (id_hash, kind, account_id, sealed, expires_at) VALUES ($1, $2, $3, $4, $5))
       INSERT INTO vault_audit_log (at, account_id, event, outcome, ip, node) VALUES ($6, $3, $7, $8, $9, $10)`,
      [row.idHash, row.kind, row.accountId, row.sealed, row.expiresAt, audit.at, audit.event, audit.outcome, audit.ip, audit.node],
    );
  }

  async armLogin(idHash: string, sealed: Buffer, audit: AuditEntry): Promise<boolean> {
    const r = await this.q(
      `WITH armed AS (UPDATE vault_pending SET sealed = $2, state = 'pending' WHERE id_hash = $1 AND kind = 'login' AND state = 'starting' RETURNING id_hash),
       logged AS (INSERT INTO vault_audit_log (at, account_id, event, outcome, ip, node) SELECT $3, $4, $5, $6, $7, $8 FROM armed)
       SELECT id_hash FROM armed`,
      [idHash, sealed, audit.at, audit.accountId, audit.event, audit.outcome, audit.ip, audit.node],
    );
    return r.rowCount === 1;
  }

  async completeLogin(accountId: string, loginIdHash: string, grant: PendingRow, audit: AuditEntry, now: number, version: number): Promise<boolean> {
    // One statement, one commit. The grant and its audit entry exist only if the reset found the record at the login's version.
    const r = await this.q(
      `WITH reset AS (UPDATE vault_accounts SET attempts_used = 0, updated_at = $1 WHERE id = $2 AND version = $11 RETURNING id),
       settled AS (DELETE FROM vault_pending WHERE id_hash = $3 AND kind = 'login'),
       granted AS (INSERT INTO vault_pending (id_hash, kind, account_id, sealed, expires_at) SELECT $4, 'grant', $2, $5, $6 FROM reset),
       logged AS (INSERT INTO vault_audit_log (at, account_id, event, outcome, ip, node) SELECT $1, $2, $7, $8, $9, $10 FROM reset)
       SELECT id FROM reset`,
      [now, accountId, loginIdHash, grant.idHash, grant.sealed, grant.expiresAt, audit.event, audit.outcome, audit.ip, audit.node, version],
    );
    return r.rowCount === 1;
  }

  async claimPending(idHash: string, kind: PendingKind, accountId: string, now: number, finishingTtlMs: number): Promise<Buffer | undefined> {
    const r =
      kind === 'login'
        ? await this.q<{ sealed: Buffer }>(
            `UPDATE vault_pending SET state = 'finishing', expires_at = $1 WHERE id_hash = $2 AND kind = 'login' AND account_id = $3 AND state = 'pending' AND expires_at > $4 RETURNING sealed`,
            [now + finishingTtlMs, idHash, accountId, now],
          )
        : await this.q<{ sealed: Buffer }>('DELETE FROM vault_pending WHERE id_hash = $1 AND kind = $2 AND account_id = $3 AND expires_at > $4 RETURNING sealed', [idHash, kind, accountId, now]);
    return r.rows[0]?.sealed;
  }

  async settleLogin(idHash: string): Promise<void> {
    await this.q(`DELETE FROM vault_pending WHERE id_hash = $1 AND kind = 'login'`, [idHash]);
  }

  async sweep(now: number): Promise<void> {
    await this.q('DELETE FROM vault_pending WHERE expires_at <= $1', [now]);
  }

  async audit(e: AuditEntry): Promise<void> {
    await this.q('INSERT INTO vault_audit_log (at, account_id, event, outcome, ip, node) VALUES ($1, $2, $3, $4, $5, $6)', [e.at, e.accountId, e.event, e.outcome, e.ip, e.node]);
  }

  async ping(): Promise<void> {
    await this.q('SELECT 1');
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
