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

/** The node options of the CLI's `#!/usr/bin/env -S node ...` line, so tests start it as a user's shell does. */
export const CLI_NODE_OPTIONS: readonly string[] = readFileSync(CLI_BIN, 'utf8').split('\n')[0]!.replace(/^#!\/usr\/bin\/env (-S )?node/, '').split(' ').filter(Boolean);
