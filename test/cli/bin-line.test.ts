import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { delimiter, dirname } from 'node:path';
import { test } from 'node:test';
import { CLI_BIN } from '../helpers/fixtures.js';

test('the chatsafe command runs through its own #! line, as npm links it and as the bench runs it', () => {
  const first = readFileSync(CLI_BIN, 'utf8').split('\n')[0]!;
  assert.match(first, /^#!\/usr\/bin\/env (-S )?node( |$)/);
  // Run as a user's shell would: the file itself, with the node running the tests first on PATH.
  const r = spawnSync(CLI_BIN, ['--version'], { encoding: 'utf8', env: { ...process.env, PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}` } });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout.trim(), /^\d+\.\d+\.\d+/);
});
