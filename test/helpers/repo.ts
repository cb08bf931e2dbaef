import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { RootKey } from '../../src/core/keys/root-key.js';
import { Repository } from '../../src/core/repo/repository.js';
import { LocalFolderBackend } from '../../src/core/storage/local-folder.js';
import { tempDir } from './tmp.js';

/**
 * A temporary folder holding `src/` with the given files and a new folder
 * repository at `repo/` under a fresh key; removed when the test ends.
 */
export async function repoWithSource(
  t: TestContext,
  files: Record<string, Buffer | string>,
): Promise<{ dir: string; src: string; key: RootKey; backend: LocalFolderBackend; repo: Repository }> {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const src = join(dir, 'src');
  mkdirSync(src);
  for (const [name, data] of Object.entries(files)) writeFileSync(join(src, name), data);
  const key = RootKey.generate();
  const backend = new LocalFolderBackend(join(dir, 'repo'));
  return { dir, src, key, backend, repo: await Repository.init(backend, key) };
}
