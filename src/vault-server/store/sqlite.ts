/**
 * The vault store in one SQLite file (WAL): the default for a single machine.
 *
 * Two connections to the same file: `durable` commits with synchronous=FULL
 * (the WAL is fsynced at each commit) and carries what must survive a power
 * cut: consumed guesses, new and replaced records. `db` commits with NORMAL
 * (safe across a crash of the process; a power cut may lose the last commits)
 * for one-time tokens, counter resets and the audit trail. A FULL commit also
 * makes every earlier NORMAL commit durable, since they share one WAL.
 * Losing a reset costs the user a guess; it never grants an extra one.
 */
import Database from 'better-sqlite3';
import { ChatsafeError } from '../../core/errors.js';
import type { AuditEntry, ConsumeResult, PendingKind, PendingRow, VaultStore } from './store.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS accounts (
  id TEXT PRIMARY KEY, sealed BLOB NOT NULL,
  attempts_used INTEGER NOT NULL DEFAULT 0, max_attempts INTEGER NOT NULL,
  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, last_attempt_at INTEGER,
  version INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS destroyed_accounts (id TEXT PRIMARY KEY, destroyed_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS pending (
  id_hash TEXT PRIMARY KEY, kind TEXT NOT NULL, account_id TEXT NOT NULL,
  state TEXT NOT NULL DEFAULT 'pending', sealed BLOB NOT NULL, expires_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS pending_account ON pending (account_id, kind);
CREATE TABLE IF NOT EXISTS audit_log (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, account_id TEXT,
  event TEXT NOT NULL, outcome TEXT NOT NULL, ip TEXT NOT NULL, node TEXT NOT NULL);
`;

export class SqliteStore implements VaultStore {
  readonly kind = 'sqlite' as const;
  private readonly db: Database.Database;
  private readonly durable: Database.Database;

  constructor(path: string) {
    const open = (synchronous: string) => {
      const conn = new Database(path);
      conn.pragma('journal_mode = WAL');
      conn.pragma(`synchronous = ${synchronous}`);
      conn.pragma('busy_timeout = 5000');
      // Deleted records must not linger in free pages of the file.
      conn.pragma('secure_delete = ON');
      return conn;
    };
    try {
      this.durable = open('FULL');
      this.db = open('NORMAL');
    } catch (e) {
      throw new ChatsafeError('io', `Cannot open the vault database ${path}.`, 'Check --db and the permissions of its folder.', { cause: e });
    }
  }

  async migrate(): Promise<void> {
    this.durable.exec(SCHEMA);
    // Files created before records had versions.
    const columns = this.durable.prepare('PRAGMA table_info(accounts)').all() as { name: string }[];
    if (!columns.some((c) => c.name === 'version')) this.durable.exec('ALTER TABLE accounts ADD COLUMN version INTEGER NOT NULL DEFAULT 0');
  }

  async getOrCreateMeta(name: string, fresh: Buffer): Promise<Buffer> {
    this.durable.prepare('INSERT OR IGNORE INTO meta (name, value) VALUES (?, ?)').run(name, fresh);
    return (this.db.prepare('SELECT value FROM meta WHERE name = ?').get(name) as { value: Buffer }).value;
  }

  async createAccount(id: string, sealed: Buffer, maxAttempts: number, now: number): Promise<boolean> {
    return this.durable.transaction(() => {
      if (this.durable.prepare('SELECT 1 FROM destroyed_accounts WHERE id = ?').get(id)) return false;
      const r = this.durable.prepare('INSERT OR IGNORE INTO accounts (id, sealed, max_attempts, created_at, updated_at) VALUES (?, ?, ?, ?, ?)').run(id, sealed, maxAttempts, now, now);
      return r.changes === 1;
    }).immediate();
  }

  async replaceAccount(id: string, sealed: Buffer, now: number, expectedVersion: number): Promise<'replaced' | 'stale' | 'missing'> {
    return this.durable.transaction(() => {
      const r = this.durable.prepare('UPDATE accounts SET sealed = ?, attempts_used = 0, version = version + 1, updated_at = ? WHERE id = ? AND version = ?').run(sealed, now, id, expectedVersion);
      if (r.changes === 1) return 'replaced';
      return this.durable.prepare('SELECT 1 FROM accounts WHERE id = ?').get(id) ? 'stale' : 'missing';
    }).immediate();
  }

  async accountVersion(id: string): Promise<number | undefined> {
    return (this.db.prepare('SELECT version FROM accounts WHERE id = ?').get(id) as { version: number } | undefined)?.version;
  }

  /**
   * Guesses consumed in the same turn of the event loop are committed together
   * (group commit): one fsync for all of them instead of one each. Every UPDATE
   * is still atomic on its own, and no caller learns its result (and so no
   * password is evaluated) before the commit holding its guess is durable.
   */
  async consumeAttempt(id: string, now: number, attempt: { idHash: string; expiresAt: number }): Promise<ConsumeResult> {
    return new Promise((resolve, reject) => {
      this.consumeQueue.push({ id, now, attempt, resolve, reject });
      if (this.consumeQueue.length === 1) setImmediate(() => this.flushConsumes());
    });
  }

  private readonly consumeQueue: { id: string; now: number; attempt: { idHash: string; expiresAt: number }; resolve: (r: ConsumeResult) => void; reject: (e: unknown) => void }[] = [];

  private flushConsumes(): void {
    const batch = this.consumeQueue.splice(0);
    let results: ConsumeResult[];
    try {
      results = this.durable.transaction(() => batch.map((c) => this.consumeOne(c.id, c.now, c.attempt))).immediate();
    } catch (e) {
      for (const c of batch) c.reject(e);
      return;
    }
    batch.forEach((c, i) => c.resolve(results[i]!));
  }

  private consumeOne(id: string, now: number, attempt: { idHash: string; expiresAt: number }): ConsumeResult {
    const row = this.durable
      .prepare('UPDATE accounts SET attempts_used = attempts_used + 1, last_attempt_at = ? WHERE id = ? AND attempts_used < max_attempts RETURNING sealed, attempts_used, max_attempts, version')
      .get(now, id) as { sealed: Buffer; attempts_used: number; max_attempts: number; version: number } | undefined;
    if (row) {
      this.durable
        .prepare(`INSERT INTO pending (id_hash, kind, account_id, state, sealed, expires_at) VALUES (?, 'login', ?, 'starting', ?, ?)`)
        .run(attempt.idHash, id, Buffer.alloc(0), attempt.expiresAt);
      return { kind: 'ok', sealed: row.sealed, attemptsUsed: row.attempts_used, maxAttempts: row.max_attempts, version: row.version };
    }
    return this.durable.prepare('SELECT 1 FROM accounts WHERE id = ?').get(id) ? { kind: 'exhausted' } : { kind: 'missing' };
  }

  async attemptsLeft(id: string): Promise<number | undefined> {
    const row = this.db.prepare('SELECT max_attempts - attempts_used AS left FROM accounts WHERE id = ?').get(id) as { left: number } | undefined;
    return row ? Math.max(0, row.left) : undefined;
  }

  async destroyIfExhausted(id: string, now: number): Promise<boolean> {
    return this.db.transaction(() => {
      const r = this.db
        .prepare(`DELETE FROM accounts WHERE id = ? AND attempts_used >= max_attempts
                  AND NOT EXISTS (SELECT 1 FROM pending WHERE account_id = ? AND kind = 'login' AND expires_at > ?)`)
        .run(id, id, now);
      if (r.changes !== 1) return false;
      this.db.prepare('INSERT OR IGNORE INTO destroyed_accounts (id, destroyed_at) VALUES (?, ?)').run(id, now);
      this.db.prepare('DELETE FROM pending WHERE account_id = ?').run(id);
      return true;
    }).immediate();
  }

  async deleteAccount(id: string, expectedVersion: number): Promise<'deleted' | 'stale' | 'missing'> {
    return this.db.transaction(() => {
      if (this.db.prepare('DELETE FROM accounts WHERE id = ? AND version = ?').run(id, expectedVersion).changes !== 1) {
        return this.db.prepare('SELECT 1 FROM accounts WHERE id = ?').get(id) ? 'stale' : 'missing';
      }
      this.db.prepare('DELETE FROM pending WHERE account_id = ?').run(id);
      return 'deleted';
    }).immediate();
  }

  async isDestroyed(id: string): Promise<boolean> {
    return this.db.prepare('SELECT 1 FROM destroyed_accounts WHERE id = ?').get(id) !== undefined;
  }

  async putPending(row: PendingRow, audit?: AuditEntry): Promise<void> {
    this.db.transaction(() => {
      this.insertPending(row);
      if (audit) this.insertAudit(audit);
    })();
  }

  async armLogin(idHash: string, sealed: Buffer, audit: AuditEntry): Promise<boolean> {
    return this.db.transaction(() => {
      const r = this.db.prepare(`UPDATE pending SET sealed = ?, state = 'pending' WHERE id_hash = ? AND kind = 'login' AND state = 'starting'`).run(sealed, idHash);
      if (r.changes !== 1) return false;
      this.insertAudit(audit);
      return true;
    })();
  }

  private insertPending(row: PendingRow): void {
    this.db.prepare('INSERT INTO pending (id_hash, kind, account_id, sealed, expires_at) VALUES (?, ?, ?, ?, ?)').run(row.idHash, row.kind, row.accountId, row.sealed, row.expiresAt);
  }

  private insertAudit(e: AuditEntry): void {
    this.db.prepare('INSERT INTO audit_log (at, account_id, event, outcome, ip, node) VALUES (?, ?, ?, ?, ?, ?)').run(e.at, e.accountId, e.event, e.outcome, e.ip, e.node);
  }

  async completeLogin(accountId: string, loginIdHash: string, grant: PendingRow, audit: AuditEntry, now: number, version: number): Promise<boolean> {
    return this.db.transaction(() => {
      const reset = this.db.prepare('UPDATE accounts SET attempts_used = 0, updated_at = ? WHERE id = ? AND version = ?').run(now, accountId, version);
      this.db.prepare(`DELETE FROM pending WHERE id_hash = ? AND kind = 'login'`).run(loginIdHash);
      if (reset.changes !== 1) return false;
      this.insertPending(grant);
      this.insertAudit(audit);
      return true;
    }).immediate();
  }

  async claimPending(idHash: string, kind: PendingKind, accountId: string, now: number, finishingTtlMs: number): Promise<Buffer | undefined> {
    const row =
      kind === 'login'
        ? this.db
            .prepare(`UPDATE pending SET state = 'finishing', expires_at = ? WHERE id_hash = ? AND kind = 'login' AND account_id = ? AND state = 'pending' AND expires_at > ? RETURNING sealed`)
            .get(now + finishingTtlMs, idHash, accountId, now)
        : this.db.prepare('DELETE FROM pending WHERE id_hash = ? AND kind = ? AND account_id = ? AND expires_at > ? RETURNING sealed').get(idHash, kind, accountId, now);
    return (row as { sealed: Buffer } | undefined)?.sealed;
  }

  async settleLogin(idHash: string): Promise<void> {
    this.db.prepare(`DELETE FROM pending WHERE id_hash = ? AND kind = 'login'`).run(idHash);
  }

  async sweep(now: number): Promise<void> {
    this.db.prepare('DELETE FROM pending WHERE expires_at <= ?').run(now);
  }

  async audit(e: AuditEntry): Promise<void> {
    this.insertAudit(e);
  }

  async ping(): Promise<void> {
    this.db.prepare('SELECT 1').get();
  }

  async close(): Promise<void> {
    this.db.close();
    this.durable.close();
  }
}
