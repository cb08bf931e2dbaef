/**
 * A folder repository and the paths a run writes or reads beside it. A restore never writes into
 * the repository it reads: restored files among its objects would be taken for them or put in their
 * way (a snapshot of a home folder holds an older copy of the repository in it, whose pruned
 * snapshots would come back), and with `--overwrite` replace them. A backup never reads the
 * repository it writes as a source. Paths are compared as real paths, since a repository is often
 * reached through a link. Only a folder repository has a place on this machine to compare.
 */
import { realpathSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { UsageError } from '../errors.js';
import type { StorageBackend } from './backend.js';
import { LocalFolderBackend } from './local-folder.js';

/** Refuses a target that is a folder repository's folder or lies inside it. */
export function refuseTargetInRepository(backend: StorageBackend, target: string): void {
  if (!(backend instanceof LocalFolderBackend)) return;
  const repo = comparable(realPath(backend.root));
  const into = comparable(realPath(target));
  if (!isSameOrInside(into, repo)) return;
  throw new UsageError(
    into === repo ? `The target ${target} is the repository's own folder.` : `The target ${target} is inside the repository ${backend.location}.`,
    'Restore into a folder outside the repository: files written there could damage it.',
  );
}

/**
 * Refuses a restore whose plan has an entry at or inside a folder repository that lies inside the
 * target. Paths are the plan's, components joined with '/'.
 */
export function refusePlanInRepository(backend: StorageBackend, target: string, entries: Iterable<{ readonly relPath: string }>): void {
  if (!(backend instanceof LocalFolderBackend)) return;
  const rel = relative(realPath(target), realPath(backend.root));
  if (rel === '' || rel === '..' || rel.startsWith('..' + sep) || isAbsolute(rel)) return; // not inside the target (the target itself is refused before)
  const repoRel = comparable(rel.split(sep).join('/'));
  for (const { relPath: p } of entries) {
    const c = comparable(p);
    if (c === repoRel || c.startsWith(repoRel + '/')) {
      throw new UsageError(`The snapshot has ${p}, which would be restored into the repository ${backend.location}.`, 'Restore into a folder that does not hold the repository.');
    }
  }
}

/**
 * Refuses a source that is a folder repository's folder or holds it: backed up into itself, every
 * pack it writes is read back as new data, the backup grows without end, and a restore brings back
 * an old copy of the repository.
 */
export function refuseRepositoryInSources(backend: StorageBackend, sources: readonly string[]): void {
  if (!(backend instanceof LocalFolderBackend)) return;
  const repo = comparable(realPath(backend.root));
  for (const src of sources) {
    if (src === '') continue; // the scan refuses it
    if (!isSameOrInside(repo, comparable(realPath(src)))) continue;
    throw new UsageError(`The repository ${backend.location} is inside the source ${src}; it would be backed up into itself.`, 'Keep the repository outside the folders you back up, or back up the folders beside it instead.');
  }
}

/** Whether `inner` is `outer` or lies inside it (both real and comparable). */
function isSameOrInside(inner: string, outer: string): boolean {
  return inner === outer || inner.startsWith(withSep(outer));
}

/** `p` with every link resolved; a part that does not exist yet is taken as it is written. */
function realPath(p: string): string {
  const rest: string[] = [];
  for (let at = resolve(p); ; at = dirname(at)) {
    try {
      return join(realpathSync.native(at), ...rest);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if ((code !== 'ENOENT' && code !== 'ENOTDIR') || dirname(at) === at) return resolve(p);
      rest.unshift(basename(at));
    }
  }
}

/** Names differing only in case are one on the file systems macOS and Windows use by default. */
function comparable(p: string): string {
  return process.platform === 'darwin' || process.platform === 'win32' ? p.toLowerCase() : p;
}

function withSep(dir: string): string {
  return dir.endsWith(sep) ? dir : dir + sep;
}
