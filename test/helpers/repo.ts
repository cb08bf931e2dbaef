import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { RootKey } from '../../src/core/keys/root-key.js';
import type { BlobIndex } from '../../src/core/repo/master-index.js';
import { Repository } from '../../src/core/repo/repository.js';
import type { SnapshotRecord } from '../../src/core/repo/snapshot.js';
import type { FileNode } from '../../src/core/repo/tree.js';
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

/** The latest snapshot of a `repoWithSource` source, with its file `src/NAME` (its chunk ids read) and the index. */
export async function latestSourceFile(repo: Repository, name: string): Promise<{ snapshot: SnapshotRecord; index: BlobIndex; node: FileNode }> {
  const snapshot = await repo.findSnapshot('latest');
  const index = await repo.loadIndex();
  const root = await repo.loadTree(index, snapshot.snapshot.tree);
  const folder = root.nodes[0];
  if (folder?.type !== 'dir') throw new Error('the snapshot has no source folder');
  const node = (await repo.loadTree(index, folder.subtree)).nodes.find((n) => n.name === name);
  if (node?.type !== 'file') throw new Error(`the source folder has no file ${name}`);
  return { snapshot, index, node };
}
