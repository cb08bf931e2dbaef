/**
 * Password mode through the real CLI and a real vault process: init with a
 * password, back up, restore, wrong passwords counting down, a 64-digit key
 * added beside the password, a password change, and a bundle that opens with
 * the password too.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runCli, describeRun } from '../helpers/cli.js';
import { Services, SKIP_HSM, type VaultNode } from '../vault-server/services.js';

let svc: Services;
let node: VaultNode;

before(async () => {
  if (SKIP_HSM) return;
  svc = new Services();
  node = await svc.startNode(join(svc.dir, 'vault.db'));
});
after(async () => {
  await svc?.stop();
});

const PASSWORD = 'seven purple otters sing';
const NEW_PASSWORD = 'quiet lantern over harbour 9';

test('init --password, backup, restore, countdown, key add, passwd and bundles, all through the CLI', { skip: SKIP_HSM }, async () => {
  const dir = svc.dir;
  const repo = join(dir, 'repo');
  const src = join(dir, 'chats');
  mkdirSync(src);
  writeFileSync(join(src, 'msgstore.db'), 'not really a database, but private');
  const env = { CHATSAFE_VAULT_URL: node.url, CHATSAFE_VAULT_TEST_WEAK_KDF: '1' };
  const run = async (args: string[], extra: Record<string, string> = {}) => runCli(args, { env: { ...env, ...extra }, cwd: dir });

  const weak = await run(['init', '--repo', repo, '--password'], { CHATSAFE_PASSWORD: 'abc' });
  assert.equal(weak.code, 2, describeRun(weak));
  assert.match(weak.stderr, /too weak/);

  const init = await run(['init', '--repo', repo, '--password'], { CHATSAFE_PASSWORD: PASSWORD });
  assert.equal(init.code, 0, describeRun(init));
  assert.match(init.stdout, /protected by your password/);
  assert.doesNotMatch(init.stdout, /([0-9A-F]{4} ){15}/, 'no 64-digit key is shown in password mode');

  const b = await run(['backup', '--repo', repo, src], { CHATSAFE_PASSWORD: PASSWORD });
  assert.equal(b.code, 0, describeRun(b));

  const wrong = await run(['snapshots', '--repo', repo], { CHATSAFE_PASSWORD: 'not the password at all' });
  assert.equal(wrong.code, 3, describeRun(wrong));
  assert.match(wrong.stderr, /9 attempts left/);

  const r = await run(['restore', '--repo', repo, '--target', join(dir, 'out')], { CHATSAFE_PASSWORD: PASSWORD });
  assert.equal(r.code, 0, describeRun(r));
  assert.equal(readFileSync(join(dir, 'out', 'chats', 'msgstore.db'), 'utf8'), 'not really a database, but private');

  const add = await run(['key', 'add', '--repo', repo, '--new-key-file', join(dir, 'k64')], { CHATSAFE_PASSWORD: PASSWORD });
  assert.equal(add.code, 0, describeRun(add));
  const viaKey = await run(['snapshots', '--repo', repo, '--key-file', join(dir, 'k64'), '--json']);
  assert.equal(viaKey.code, 0, describeRun(viaKey));
  assert.equal(JSON.parse(viaKey.stdout).length, 1);

  const passwd = await run(['key', 'passwd', '--repo', repo], { CHATSAFE_PASSWORD: PASSWORD, CHATSAFE_NEW_PASSWORD: NEW_PASSWORD });
  assert.equal(passwd.code, 0, describeRun(passwd));
  assert.equal((await run(['snapshots', '--repo', repo], { CHATSAFE_PASSWORD: NEW_PASSWORD })).code, 0);
  assert.equal((await run(['snapshots', '--repo', repo], { CHATSAFE_PASSWORD: PASSWORD })).code, 3, 'the old password no longer works');

  const bundle = join(dir, 'chats.chatsafe');
  assert.equal((await run(['export', '--repo', repo, '--out', bundle], { CHATSAFE_PASSWORD: NEW_PASSWORD })).code, 0);
  const rb = await run(['restore', bundle, '--target', join(dir, 'out2')], { CHATSAFE_PASSWORD: NEW_PASSWORD });
  assert.equal(rb.code, 0, describeRun(rb));
  assert.equal(readFileSync(join(dir, 'out2', 'chats', 'msgstore.db'), 'utf8'), 'not really a database, but private');

  const inspect = await run(['inspect', repo, '--json']);
  const slots = JSON.parse(inspect.stdout).keySlots.map((s: { kind: string }) => s.kind).sort();
  assert.deepEqual(slots, ['key', 'password']);
});
