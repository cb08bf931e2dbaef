/**
 * `inspect` shows cleartext that anyone may have written, without any key: nothing it prints may
 * drive the terminal. A header holding control characters is refused as damaged; other text
 * (the path it was given) is shown with its control characters escaped, in JSON too.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { encodeHeader } from '../../src/core/bundle/format.js';
import { RootKey } from '../../src/core/keys/root-key.js';
import { Repository } from '../../src/core/repo/repository.js';
import { LocalFolderBackend } from '../../src/core/storage/local-folder.js';
import { describeRun, runCli, type CliRun } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const HOSTILE = 'by \u001b[2J\u001b[31mPWNED\u001b]0;title\u0007 \u009b31m \u007f';
const NO_KEY = { CHATSAFE_KEY: undefined, CHATSAFE_PASSWORD: undefined };

/** C0, DEL and C1 control characters, raw. */
// eslint-disable-next-line no-control-regex
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

function assertNoRawControls(run: CliRun): void {
  assert.ok(!RAW_CONTROL.test(run.stdout) && !RAW_CONTROL.test(run.stderr), `raw control characters in the output: ${JSON.stringify(run)}`);
}

/** A new repository and a bundle header for it (with a payload inspect does not open), `appVersion` as given. */
async function setup(t: TestContext): Promise<{ dir: string; repo: string; bundleBytes: (appVersion: string) => Buffer }> {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const repo = join(dir, 'repo');
  const backend = new LocalFolderBackend(repo);
  const slots = await (await Repository.init(backend, RootKey.generate())).listSlots();
  const config = await backend.read('config', 'config');
  const bundleBytes = (appVersion: string) => {
    const now = new Date().toISOString();
    const header = encodeHeader({
      format: 'chatsafe-bundle',
      version: 1,
      created: now,
      appVersion,
      repository: config.toString('base64'),
      slots,
      salt: randomBytes(32).toString('base64'),
      noncePrefix: randomBytes(7).toString('base64'),
      files: 1,
      bytes: 3,
      snapshotTime: now,
    });
    return Buffer.concat([header, randomBytes(64)]);
  };
  return { dir, repo, bundleBytes };
}

test('a bundle header whose app version holds control characters is refused as damaged, and not echoed', async (t) => {
  const { dir, bundleBytes } = await setup(t);
  const path = join(dir, 'b.chatsafe');
  writeFileSync(path, bundleBytes(HOSTILE));
  for (const args of [['inspect', path], ['inspect', path, '--json']]) {
    const run = await runCli(args, { env: NO_KEY });
    assert.equal(run.code, 4, describeRun(run));
    assert.ok(run.stderr.includes(path), `names the bundle: ${describeRun(run)}`);
    assertNoRawControls(run);
  }
});

test("a repository header whose app version holds control characters is refused as damaged, and not echoed", async (t) => {
  const { repo } = await setup(t);
  const configPath = join(repo, 'config');
  const config = JSON.parse(readFileSync(configPath, 'utf8')) as { appVersion: string };
  config.appVersion = HOSTILE;
  writeFileSync(configPath, JSON.stringify(config));
  const run = await runCli(['inspect', repo], { env: NO_KEY });
  assert.equal(run.code, 4, describeRun(run));
  assertNoRawControls(run);
});

test('inspect shows a path with control characters escaped, and its JSON escapes DEL and C1 as well', async (t) => {
  const { dir, bundleBytes } = await setup(t);
  const path = join(dir, `x\u001b[31m\u009b1m\u007f.chatsafe`);
  writeFileSync(path, bundleBytes('1.2.3-beta.4+build.5'));
  const text = await runCli(['inspect', path], { env: NO_KEY });
  assert.equal(text.code, 0, describeRun(text));
  assertNoRawControls(text);
  assert.ok(text.stdout.includes('x\\u001b[31m\\u009b1m\\u007f.chatsafe'), text.stdout);
  assert.match(text.stdout, /by Chatsafe 1\.2\.3-beta\.4\+build\.5\n/);
  const json = await runCli(['inspect', path, '--json'], { env: NO_KEY });
  assert.equal(json.code, 0, describeRun(json));
  assertNoRawControls(json);
  assert.equal((JSON.parse(json.stdout) as { path: string }).path, path);
});
