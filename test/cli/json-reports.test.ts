/**
 * `--json` is one JSON document on stdout for every command that takes it, including those that
 * change a repository rather than report on it (`unlock`, `key add`, `key remove`).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { describeRun, runCli, withTempDir } from '../helpers/cli.js';

async function json(args: string[]): Promise<unknown> {
  const run = await runCli(args);
  assert.equal(run.code, 0, describeRun(run));
  return JSON.parse(run.stdout) as unknown;
}

test('unlock, key add and key remove answer --json with one document', async () => {
  await withTempDir('chatsafe-json-', async (dir) => {
    const repo = ['--repo', join(dir, 'repo'), '--key-file', join(dir, 'key')];
    assert.equal((await runCli(['init', ...repo])).code, 0);
    assert.deepEqual(await json(['unlock', ...repo, '--json']), { removedLocks: 0 });

    const toFile = (await json(['key', 'add', ...repo, '--new-key-file', join(dir, 'second.key'), '--json'])) as { added: { id: string; kind: string; keyFile: string } };
    assert.equal(toFile.added.kind, 'key');
    assert.equal(toFile.added.keyFile, join(dir, 'second.key'));
    assert.ok(existsSync(join(dir, 'second.key')));

    const shown = (await json(['key', 'add', ...repo, '--json'])) as { added: { id: string; key: string } };
    assert.match(shown.added.key, /^(?:[0-9A-F]{4} ){15}[0-9A-F]{4}$/, 'the new key is shown once, in the document');
    const opened = await runCli(['snapshots', '--repo', join(dir, 'repo'), '--json'], { env: { CHATSAFE_KEY: shown.added.key } });
    assert.equal(opened.code, 0, describeRun(opened));

    assert.deepEqual(await json(['key', 'remove', ...repo, toFile.added.id.slice(0, 8), '--json']), { removed: { id: toFile.added.id, kind: 'key' } });
    assert.ok(readFileSync(join(dir, 'key'), 'utf8').length > 0);
  });
});

test('a command asked for --json that fails prints one JSON document naming the failure, with the exit code', async () => {
  await withTempDir('chatsafe-json-', async (dir) => {
    const repo = ['--repo', join(dir, 'repo'), '--key-file', join(dir, 'key')];
    assert.equal((await runCli(['init', ...repo])).code, 0);
    const cases: Array<[string[], number, string]> = [
      [['snapshots', '--repo', join(dir, 'repo'), '--json'], 3, 'wrong-key'],
      [['backup', ...repo, '--json', join(dir, 'missing')], 1, 'not-found'],
      [['snapshots', ...repo, '--json', '--bogus'], 2, 'usage'],
      [['check', '--repo', join(dir, 'nowhere'), '--no-key', '--json'], 1, 'not-found'],
    ];
    for (const [args, code, kind] of cases) {
      const env = args.includes('--key-file') ? {} : { CHATSAFE_KEY: '0'.repeat(64) };
      const run = await runCli(args, { env });
      assert.equal(run.code, code, describeRun(run));
      const doc = JSON.parse(run.stdout) as { error: { kind: string; message: string; hint: string | null }; exitCode: number };
      assert.equal(doc.exitCode, code);
      assert.equal(doc.error.kind, kind, describeRun(run));
      assert.ok(doc.error.message.length > 0);
      assert.match(run.stderr, /chatsafe /, 'people still read the error on stderr');
    }
    // Without --json (or with it only after --), stdout stays empty.
    const plain = await runCli(['backup', ...repo, '--', '--json']);
    assert.equal(plain.code, 1, describeRun(plain));
    assert.equal(plain.stdout, '');
  });
});
