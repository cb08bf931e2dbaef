import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, from dist/test/helpers (compiled) or test/helpers (source). */
export const REPO_ROOT = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(resolve(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('package.json not found above the tests');
    dir = up;
  }
  return dir;
})();

/** `../shared/fixtures` beside the checkout (override with CHATSAFE_FIXTURES). */
export const FIXTURES_DIR = process.env.CHATSAFE_FIXTURES ?? resolve(REPO_ROOT, '..', 'shared', 'fixtures');

/**
 * Path of a shared fixture, or a skip reason for node:test when it is absent:
 *   const f = fixture('whatsapp-crypt/msgstore.db');
 *   test('...', { skip: f.skip }, () => { ... f.path ... });
 */
export function fixture(rel: string): { path: string; skip: string | false } {
  const path = resolve(FIXTURES_DIR, rel);
  return existsSync(path) ? { path, skip: false } : { path, skip: `shared fixture ${rel} not found under ${FIXTURES_DIR}` };
}

/** The built CLI entry point, for tests that run `chatsafe` as a real process. */
export const CLI_BIN = resolve(REPO_ROOT, 'bin', 'chatsafe.js');

/**
 * The variables and node options of the CLI's `#!/usr/bin/env -S [NAME=value ...] node [option ...]`
 * line, so tests start it as a user's shell does.
 */
function cliBinLine(): { env: Readonly<Record<string, string>>; options: readonly string[] } {
  const words = readFileSync(CLI_BIN, 'utf8').split('\n')[0]!.replace(/^#!\/usr\/bin\/env\s+(-S\s+)?/, '').split(' ').filter(Boolean);
  const env: Record<string, string> = {};
  while (words.length > 0 && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0]!)) {
    const word = words.shift()!;
    env[word.slice(0, word.indexOf('='))] = word.slice(word.indexOf('=') + 1);
  }
  return { env, options: words.slice(1) };
}
const BIN_LINE = cliBinLine();
export const CLI_NODE_OPTIONS: readonly string[] = BIN_LINE.options;
export const CLI_ENV: Readonly<Record<string, string>> = BIN_LINE.env;
