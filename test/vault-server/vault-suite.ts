/**
 * The key vault's behaviour, run once per storage back end (SQLite and
 * PostgreSQL) against real `chatsafe vault serve` processes with a real
 * SoftHSM2 token: both back ends must pass exactly the same tests.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import Database from 'better-sqlite3';
import pkcs11js from 'pkcs11js';
import { CLI_BIN } from '../helpers/fixtures.js';
import pg from 'pg';
import { changeVaultPassword, deleteVaultAccount, fetchKeyFromVault, storeKeyInVault, type VaultAccount } from '../../src/core/vault/client.js';
import { isChatsafeError, WrongKeyError } from '../../src/core/errors.js';
import { ROUTES } from '../../src/core/vault/protocol.js';
import { openStore } from '../../src/vault-server/serve.js';
import { tokenHash } from '../../src/vault-server/tokens.js';
import { encodings, envelopeKey, post, rawLogin, rawLoginFinish, rawLoginStart, rawPasswordStart, rawRegister } from './raw-protocol.js';
import { filesUnder, Services, SKIP_HSM, SKIP_PG, type VaultNode } from './services.js';

export type Backend = 'sqlite' | 'postgres';

const OPTS = { testOnlyWeakKeyStretching: true };
const PASSWORD = 'correct horse battery staple';

function isWrong(attemptsLeft: number) {
  return (e: unknown) => e instanceof WrongKeyError && e.attemptsLeft === attemptsLeft && /Wrong password/.test(e.message);
}

function isLockedOut(e: unknown): boolean {
  return isChatsafeError(e) && e.kind === 'locked-out' && /gone for good/.test(e.message) && /64-digit key/.test(e.hint ?? '') && /only way back/.test(e.hint ?? '');
}

export function defineVaultSuite(backend: Backend): void {
  describe(`key vault on ${backend}`, { skip: backend === 'postgres' ? SKIP_PG : SKIP_HSM }, () => {
    let svc: Services;
    let db: string;
    let node: VaultNode;
    const nodeArgs = ['--rate-ip', '0', '--rate-account', '0'];
    /** Every secret the tests handled: none may appear in the vault's files or logs. */
    const secrets: { name: string; value: Buffer }[] = [];
    const keep = (name: string, value: Buffer | string) => secrets.push({ name, value: Buffer.isBuffer(value) ? value : Buffer.from(value) });
    const accountIds: string[] = [];

    async function newAccount(password = PASSWORD): Promise<{ account: VaultAccount; rootKey: Buffer }> {
      const rootKey = randomBytes(32);
      keep('K', rootKey);
      keep('password', password);
      const account = await storeKeyInVault(node.url, password, rootKey, OPTS);
      accountIds.push(account.accountId);
      return { account, rootKey };
    }

    async function auditOutcomes(accountId: string): Promise<{ event: string; outcome: string }[]> {
      if (backend === 'sqlite') {
        const conn = new Database(db, { readonly: true });
        try {
          return conn.prepare('SELECT event, outcome FROM audit_log WHERE account_id = ? ORDER BY seq').all(accountId) as { event: string; outcome: string }[];
        } finally {
          conn.close();
        }
      }
      const client = new pg.Client({ connectionString: db });
      await client.connect();
      try {
        return (await client.query<{ event: string; outcome: string }>('SELECT event, outcome FROM vault_audit_log WHERE account_id = $1 ORDER BY seq', [accountId])).rows;
      } finally {
        await client.end();
      }
    }

    before(async () => {
      svc = new Services();
      db = backend === 'postgres' ? svc.startPostgres().url : join(svc.dir, 'vault.db');
      node = await svc.startNode(db, nodeArgs);
    });
    after(async () => {
      await svc?.stop();
    });

    test('healthz answers with the store and the HSM', async () => {
      const res = await fetch(`${node.url}${ROUTES.health}`);
      assert.equal(res.status, 200);
      const body = (await res.json()) as Record<string, string>;
      assert.equal(body.status, 'ok');
      assert.equal(body.store, backend);
      assert.equal(body.masterKey, 'pkcs11');
    });

    test('register and log in: the vault gives K back; wrong passwords count down; the tenth destroys the record for good', async () => {
      const { account, rootKey } = await newAccount();
      assert.deepEqual(await fetchKeyFromVault(account, PASSWORD, OPTS), rootKey);
      for (let i = 1; i <= 9; i++) await assert.rejects(fetchKeyFromVault(account, `wrong guess number ${i}`, OPTS), isWrong(10 - i));
      await assert.rejects(fetchKeyFromVault(account, 'wrong guess number 10', OPTS), (e) => isLockedOut(e) && /last attempt/.test((e as Error).message));
      await assert.rejects(fetchKeyFromVault(account, PASSWORD, OPTS), isLockedOut);
      const audit = await auditOutcomes(account.accountId);
      assert.equal(audit.filter((a) => a.event === 'login-start' && a.outcome.startsWith('attempt-')).length, 11);
      assert.equal(audit.filter((a) => a.event === 'lockout' && a.outcome === 'destroyed').length, 1);
      assert.equal(audit.filter((a) => a.event === 'login' && a.outcome === 'success').length, 1);
    });

    test('a successful login resets the count', async () => {
      const { account, rootKey } = await newAccount();
      for (let i = 1; i <= 4; i++) await assert.rejects(fetchKeyFromVault(account, `not the password ${i}`, OPTS), isWrong(10 - i));
      assert.deepEqual(await fetchKeyFromVault(account, PASSWORD, OPTS), rootKey);
      await assert.rejects(fetchKeyFromVault(account, 'not the password again', OPTS), isWrong(9));
    });

    test('password change keeps K, the old password stops working; deletion removes the account', async () => {
      const { account, rootKey } = await newAccount();
      const next = 'purple elephants dance at noon';
      keep('password', next);
      await changeVaultPassword(account, PASSWORD, next, OPTS);
      await assert.rejects(fetchKeyFromVault(account, PASSWORD, OPTS), isWrong(9));
      assert.deepEqual(await fetchKeyFromVault(account, next, OPTS), rootKey);
      await assert.rejects(changeVaultPassword(account, 'wrong old password', 'another fine passphrase here', OPTS), WrongKeyError);
      await assert.rejects(deleteVaultAccount(account, 'wrong old password', OPTS), WrongKeyError);
      await deleteVaultAccount(account, next, OPTS);
      await assert.rejects(fetchKeyFromVault(account, next, OPTS), (e) => isChatsafeError(e) && e.kind === 'not-found');
    });

    test('50 parallel wrong logins (on two nodes when the store is shared) consume exactly 10 guesses, then the lockout', async () => {
      const nodes = [node];
      if (backend === 'postgres') nodes.push(await svc.startNode(db, nodeArgs, 'second-node'));
      const { account } = await newAccount();
      const results = await Promise.allSettled(
        Array.from({ length: 50 }, (_, i) => fetchKeyFromVault({ vaultUrl: nodes[i % nodes.length]!.url, accountId: account.accountId }, `parallel wrong guess ${i}`, OPTS)),
      );
      const errors = results.map((r) => (r.status === 'rejected' ? (r.reason as Error) : new Error('a wrong password was accepted')));
      const judged = errors.filter((e) => e instanceof WrongKeyError || (isChatsafeError(e) && e.kind === 'locked-out' && /last attempt/.test(e.message)));
      const other = errors.filter((e) => !judged.includes(e));
      assert.equal(judged.length, 10, `exactly 10 guesses were evaluated (${errors.map((e) => (isChatsafeError(e) ? e.kind : e.message)).join(', ')})`);
      for (const e of other) assert.ok(isChatsafeError(e) && (e.kind === 'locked-out' || e.kind === 'conflict'), `refused without a guess: ${e.message}`);
      const audit = await auditOutcomes(account.accountId);
      const attempts = audit.filter((a) => a.event === 'login-start' && a.outcome.startsWith('attempt-')).map((a) => a.outcome);
      assert.deepEqual([...attempts].sort(), Array.from({ length: 10 }, (_, i) => `attempt-${i + 1}-of-10`).sort());
      await assert.rejects(fetchKeyFromVault(account, PASSWORD, OPTS), isLockedOut);
      if (nodes.length > 1) await assert.rejects(fetchKeyFromVault({ vaultUrl: nodes[1]!.url, accountId: account.accountId }, PASSWORD, OPTS), isLockedOut);
    });

    test('login messages are bound to their attempt: replayed, out-of-order and crossed messages get 4xx', async () => {
      const rootKey = randomBytes(32);
      keep('K', rootKey);
      keep('password', PASSWORD);
      const a = await rawRegister(node.url, PASSWORD, rootKey);
      const b = await rawRegister(node.url, PASSWORD, rootKey);
      keep('export key', a.exportKey);
      keep('export key', b.exportKey);
      // out of order: a finish for an attempt that never started
      const bogus = await post(node.url, ROUTES.loginFinish, { attemptId: randomBytes(32).toString('base64url'), accountId: a.accountId, finishLoginRequest: randomBytes(64).toString('base64url') });
      assert.equal(bogus.status, 400);
      assert.equal(bogus.json.error, 'invalid-attempt');
      // a proper login, then its finish message replayed
      const ok = await rawLogin(node.url, a.accountId, PASSWORD);
      assert.equal(ok.finish?.status, 200);
      const replay = await post(node.url, ROUTES.loginFinish, ok.finishBody);
      assert.equal(replay.status, 400);
      // a finish sent against another account's attempt
      const started = await rawLoginStart(node.url, b.accountId, PASSWORD);
      assert.equal(started.start.status, 200);
      const crossed = await post(node.url, ROUTES.loginFinish, { ...ok.finishBody, attemptId: started.start.json.attemptId });
      assert.equal(crossed.status, 400);
      // the grant from the login is bound to its account and one-time
      const grant = ok.finish!.json.grant as string;
      assert.equal((await post(node.url, ROUTES.deleteAccount, { accountId: b.accountId, grant })).status, 403);
      assert.equal((await post(node.url, ROUTES.deleteAccount, { accountId: a.accountId, grant })).status, 200);
      assert.equal((await post(node.url, ROUTES.deleteAccount, { accountId: a.accountId, grant })).status, 403);
      // a registration ticket cannot be made up to overwrite an account
      const regAgain = await post(node.url, ROUTES.registerFinish, { ticket: randomBytes(32).toString('base64url'), accountId: b.accountId, registrationRecord: a.registrationRecord, sealedKey: a.sealedKey });
      assert.equal(regAgain.status, 400);
      // a garbled second message is a failed guess (b's second), not a crash
      const garbled = await rawLoginStart(node.url, b.accountId, PASSWORD);
      const g = await post(node.url, ROUTES.loginFinish, { attemptId: garbled.start.json.attemptId, accountId: b.accountId, finishLoginRequest: randomBytes(64).toString('base64url') });
      assert.equal(g.status, 401);
      assert.equal(g.json.error, 'wrong-password');
      assert.equal(g.json.attemptsLeft, 8);
      assert.ok(node.alive);
    });

    test('while the last guess is in flight other logins are told to wait; an abandoned last guess destroys the record at its deadline', async () => {
      const strict = await svc.startNode(db, [...nodeArgs, '--max-attempts', '1', '--login-timeout', '5'], 'one-guess');
      const rootKey = randomBytes(32);
      keep('K', rootKey);
      const acc = await rawRegister(strict.url, PASSWORD, rootKey);
      keep('export key', acc.exportKey);
      const first = await rawLoginStart(strict.url, acc.accountId, PASSWORD);
      assert.equal(first.start.status, 200);
      assert.equal(first.start.json.attemptsLeft, 0);
      // the client never finishes; the right password meanwhile is refused without a guess
      await assert.rejects(fetchKeyFromVault({ vaultUrl: strict.url, accountId: acc.accountId }, PASSWORD, OPTS), (e) => isChatsafeError(e) && e.kind === 'conflict');
      await new Promise((r) => setTimeout(r, 5_500));
      await assert.rejects(fetchKeyFromVault({ vaultUrl: strict.url, accountId: acc.accountId }, PASSWORD, OPTS), isLockedOut);
      const late = await post(strict.url, ROUTES.loginFinish, { attemptId: first.start.json.attemptId, accountId: acc.accountId, finishLoginRequest: randomBytes(64).toString('base64url') });
      assert.equal(late.status, 400);
      await strict.stop();
    });

    test('a password change ends every login, grant and change ticket obtained with the old password', async () => {
      const rootKey = randomBytes(32);
      const oldPassword = 'the old password somebody else knows';
      const newPassword = 'the new password only the user knows';
      const theirs = 'a password of somebody else entirely';
      keep('K', rootKey);
      for (const p of [oldPassword, newPassword, theirs]) keep('password', p);
      const acc = await rawRegister(node.url, oldPassword, rootKey);
      keep('export key', acc.exportKey);
      // Someone who knows the old password: a login left half-way, two grants, and a change of their own started.
      const halfWay = await rawLoginStart(node.url, acc.accountId, oldPassword);
      assert.equal(halfWay.start.status, 200);
      const grants: string[] = [];
      for (let i = 0; i < 3; i++) {
        const login = await rawLogin(node.url, acc.accountId, oldPassword);
        assert.equal(login.finish?.status, 200);
        grants.push(login.finish!.json.grant as string);
      }
      const theirChange = await rawPasswordStart(node.url, acc.accountId, grants[0]!, theirs);
      assert.equal(theirChange.start.status, 200);

      await changeVaultPassword({ vaultUrl: node.url, accountId: acc.accountId }, oldPassword, newPassword, OPTS);

      const late = await rawLoginFinish(node.url, acc.accountId, oldPassword, halfWay);
      assert.equal(late.finish?.status, 400, 'a login started before the change cannot finish after it');
      assert.equal(late.finish!.json.error, 'invalid-attempt');
      assert.equal(late.finish!.json.sealedKey, undefined);
      assert.equal(late.finish!.json.grant, undefined);
      const finished = await theirChange.finish(rootKey);
      assert.equal(finished.status, 400, 'a change ticket from before the change cannot replace the new record');
      assert.equal(finished.json.error, 'invalid-attempt');
      const again = await rawPasswordStart(node.url, acc.accountId, grants[1]!, theirs);
      assert.equal(again.start.status, 403, 'a grant from before the change cannot start another change');
      const deleted = await post(node.url, ROUTES.deleteAccount, { accountId: acc.accountId, grant: grants[2] });
      assert.equal(deleted.status, 403, 'a grant from before the change cannot delete the account');

      const account = { vaultUrl: node.url, accountId: acc.accountId };
      assert.deepEqual(await fetchKeyFromVault(account, newPassword, OPTS), rootKey);
      await assert.rejects(fetchKeyFromVault(account, oldPassword, OPTS), isWrong(9));
      await assert.rejects(fetchKeyFromVault(account, theirs, OPTS), isWrong(8));
      const audit = await auditOutcomes(acc.accountId);
      assert.deepEqual(
        audit.filter((a) => a.event === 'password-change' || (a.event === 'login' && a.outcome === 'password-changed')).map((a) => `${a.event}:${a.outcome}`),
        ['password-change:changed', 'login:password-changed', 'password-change:stale'],
      );
    });

    test('the last guess is in flight from the moment it is taken: parallel starts (on two nodes when the store is shared) wait, and the record survives', async () => {
      const args = [...nodeArgs, '--max-attempts', '1'];
      const nodes = [await svc.startNode(db, args, 'last-guess-a')];
      if (backend === 'postgres') nodes.push(await svc.startNode(db, args, 'last-guess-b'));
      const rootKey = randomBytes(32);
      keep('K', rootKey);
      try {
        for (let round = 0; round < 12; round++) {
          const acc = await rawRegister(nodes[0]!.url, PASSWORD, rootKey);
          keep('export key', acc.exportKey);
          const starts = await Promise.all(Array.from({ length: 12 }, (_, i) => rawLoginStart(nodes[i % nodes.length]!.url, acc.accountId, PASSWORD)));
          const statuses = starts.map((s) => s.start.status);
          const winners = starts.filter((s) => s.start.status === 200);
          assert.equal(winners.length, 1, `one start takes the only guess (${statuses.join(',')})`);
          assert.deepEqual(statuses.filter((s) => s !== 200), Array<number>(11).fill(429), 'the others are told the last guess is in flight, never that the record is gone');
          const finished = await rawLoginFinish(nodes[0]!.url, acc.accountId, PASSWORD, winners[0]!);
          assert.equal(finished.finish?.status, 200);
          const next = await rawLogin(nodes[nodes.length - 1]!.url, acc.accountId, PASSWORD);
          assert.equal(next.finish?.status, 200, 'the record that gave K back still exists');
        }
      } finally {
        for (const n of nodes) await n.stop();
      }
    });

    test('the store takes the last guess and records its login as in flight in one step', async () => {
      const store = openStore(db);
      try {
        const id = randomBytes(16).toString('hex');
        const now = Date.now();
        assert.ok(await store.createAccount(id, randomBytes(80), 1, now));
        const first = tokenHash(randomBytes(32).toString('base64url'));
        const taken = await store.consumeAttempt(id, now, { idHash: first, expiresAt: now + 60_000 });
        assert.equal(taken.kind, 'ok');
        // Nothing else has run for this login yet, and still the lockout must see it in flight.
        assert.equal((await store.consumeAttempt(id, now, { idHash: tokenHash(randomBytes(32).toString('base64url')), expiresAt: now + 60_000 })).kind, 'exhausted');
        assert.equal(await store.destroyIfExhausted(id, now), false);
        assert.equal(await store.attemptsLeft(id), 0);
        // Until its state is stored, the login cannot be claimed.
        assert.equal(await store.claimPending(first, 'login', id, now, 1_000), undefined);
        // Past its deadline, the lockout goes ahead.
        assert.equal(await store.destroyIfExhausted(id, now + 60_001), true);
        assert.equal(await store.isDestroyed(id), true);
      } finally {
        await store.close();
      }
    });

    test('the vault killed and restarted keeps records and counters', async () => {
      const { account, rootKey } = await newAccount();
      for (let i = 1; i <= 3; i++) await assert.rejects(fetchKeyFromVault(account, `before the crash ${i}`, OPTS), isWrong(10 - i));
      await node.stop('SIGKILL');
      node = await svc.startNode(db, nodeArgs, 'restarted');
      const moved = { ...account, vaultUrl: node.url };
      await assert.rejects(fetchKeyFromVault(moved, 'after the crash', OPTS), isWrong(6));
      assert.deepEqual(await fetchKeyFromVault(moved, PASSWORD, OPTS), rootKey);
      await assert.rejects(fetchKeyFromVault(moved, 'after the reset', OPTS), isWrong(9));
    });

    test('the records are useless without the HSM key: the vault refuses to start with another master key', () => {
      const r = spawnSync(process.execPath, [CLI_BIN, 'vault', 'serve', '--listen', '127.0.0.1:0', '--db', db, '--insecure-dev-master-key', join(svc.dir, 'other-master-key')], { encoding: 'utf8', timeout: 30_000 });
      assert.equal(r.status, 4, r.stderr);
      assert.match(r.stderr, /does not decrypt under the vault master key/);
    });

    test('the HSM master key is sensitive and cannot be extracted', () => {
      const lib = new pkcs11js.PKCS11();
      lib.load(svc.hsm.module);
      process.env.SOFTHSM2_CONF = svc.hsm.conf;
      lib.C_Initialize();
      try {
        const slot = lib.C_GetSlotList(true).find((s) => lib.C_GetTokenInfo(s).label.trim() === svc.hsm.token)!;
        const session = lib.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION);
        lib.C_Login(session, pkcs11js.CKU_USER, readFileSync(svc.hsm.pinFile, 'utf8').trim());
        lib.C_FindObjectsInit(session, [{ type: pkcs11js.CKA_LABEL, value: 'chatsafe-vault-master' }]);
        const keys = lib.C_FindObjects(session, 4);
        lib.C_FindObjectsFinal(session);
        assert.equal(keys.length, 1);
        const attrs = lib.C_GetAttributeValue(session, keys[0]!, [{ type: pkcs11js.CKA_SENSITIVE }, { type: pkcs11js.CKA_EXTRACTABLE }, { type: pkcs11js.CKA_TOKEN }]);
        assert.deepEqual(attrs.map((a) => (a.value as Buffer)[0]), [1, 0, 1]);
        assert.throws(() => lib.C_GetAttributeValue(session, keys[0]!, [{ type: pkcs11js.CKA_VALUE }]), /CKR_ATTRIBUTE_SENSITIVE/);
      } finally {
        lib.C_Finalize();
      }
    });

    test('the database files and the logs hold no password, no K, and nothing that decrypts K', async () => {
      const rootKey = randomBytes(32);
      const password = 'a password we search for later';
      const acc = await rawRegister(node.url, password, rootKey);
      const login = await rawLogin(node.url, acc.accountId, password);
      assert.equal(login.finish?.status, 200);
      keep('K', rootKey);
      keep('password', password);
      keep('export key', Buffer.from(acc.exportKey, 'base64url'));
      keep('envelope key', envelopeKey(acc.exportKey));
      keep('session key', Buffer.from(login.sessionKey!, 'base64url'));
      // Stored only under the HSM key, so not even these appear in clear:
      keep('sealed K', Buffer.from(acc.sealedKey, 'base64url'));
      keep('registration record', Buffer.from(acc.registrationRecord, 'base64url'));
      assert.equal(await node.stop('SIGTERM'), 0, 'SIGTERM stops the vault cleanly');
      assert.match(node.log(), /"vault stopped"/);
      let dirs = [svc.dir];
      if (backend === 'postgres') {
        dirs = [svc.dir, svc.pg!.dataDir];
        const c = new pg.Client({ connectionString: db });
        await c.connect();
        await c.query('CHECKPOINT');
        await c.end();
      }
      const files = dirs.flatMap((d) => filesUnder(d));
      const haystacks = files.map((f) => ({ f, bytes: readFileSync(f) }));
      // The scan must be able to see what is stored: public account ids are there.
      for (const id of accountIds.concat(acc.accountId)) assert.ok(haystacks.some((h) => h.bytes.includes(Buffer.from(id))), `account id ${id} is visible to the scan`);
      assert.ok(haystacks.some((h) => h.f.endsWith('.log')), 'vault logs are scanned');
      for (const s of secrets) {
        for (const needle of encodings(s.value)) {
          for (const h of haystacks) assert.ok(!h.bytes.includes(needle), `${s.name} found in ${h.f}`);
        }
      }
      node = await svc.startNode(db, nodeArgs, 'after-scan');
    });
  });
}
