import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

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

type BinLine = { env: Readonly<Record<string, string>>; options: readonly string[] };
/** The variables and node options of the CLI's `#!` line (electron/bin-line.mjs), so tests start it as a user's shell does. */
const BIN_LINE = ((await import(pathToFileURL(resolve(REPO_ROOT, 'electron', 'bin-line.mjs')).href)) as { binLine: (bin: string) => BinLine }).binLine(CLI_BIN);
export const CLI_NODE_OPTIONS: readonly string[] = BIN_LINE.options;
export const CLI_ENV: Readonly<Record<string, string>> = BIN_LINE.env;
