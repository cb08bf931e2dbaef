import { readFileSync } from 'node:fs';

/** The app version, read from package.json so that there is one source of truth. */
export const APP_VERSION: string = (() => {
  for (const rel of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'chatsafe' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // try the next candidate: the layout differs between src/ under a test runner and dist/
    }
  }
  return '0.0.0';
})();
