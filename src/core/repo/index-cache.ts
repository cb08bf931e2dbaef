/**
 * A local copy of a repository's merged index, so that a run whose index
 * files are the ones seen last time reads one local file instead of every
 * index file (from cloud storage, a request each) and parses none of them.
 *
 * The copy holds nothing storage does not: index files are named by the hash
 * of their bytes, so the same names mean the same index, and deleting the
 * cache only costs time. It is sealed under the repository's metadata key
 * (with its own label and the repository id as associated data), so it
 * reveals nothing and cannot be forged without the key. A copy that is
 * missing, stale, damaged or unreadable is ignored; failing to write one is
 * never an error.
 */
import { join, resolve } from 'node:path';
import { aadOf } from '../crypto/aead.js';
import { MasterIndex, type IndexFromPieces } from './master-index.js';
import { readSealedLocal, saveSealedLocal } from './sealed-local-file.js';

const LABEL = 'chatsafe/v1/local-index-cache';

/**
 * Where the command line and the app keep these copies, so both reuse the
 * same one: CHATSAFE_CACHE_DIR, else the user's cache folder; `off` keeps
 * none.
 */
export function defaultIndexCacheDir(env: Readonly<Record<string, string | undefined>>): string | null {
  const chosen = env.CHATSAFE_CACHE_DIR;
  if (chosen === 'off') return null;
  if (chosen) return resolve(chosen);
  const base = env.XDG_CACHE_HOME || (env.HOME ? join(env.HOME, '.cache') : env.LOCALAPPDATA || null);
  return base ? join(resolve(base), 'chatsafe') : null;
}

export class IndexCache {
  private readonly path: string;
  private readonly aad: Buffer;
  /** The index files the copy on disk was built from, as far as this run knows. */
  private onDisk: readonly string[] | null = null;

  constructor(
    /** The folder of the repository's local caches (the media digests' too). */
    readonly dir: string,
    repoId: string,
    private readonly metaKey: Buffer,
  ) {
    this.path = join(dir, `${repoId}.index`);
    this.aad = aadOf(LABEL, Buffer.from(repoId, 'utf8'));
  }

  /** The cached index when it was built from exactly these index files, else null. */
  load(names: readonly string[]): MasterIndex | null {
    // Read, opened and built a piece at a time: the copy is tens of megabytes for a large export,
    // and the index is used only once all of it opened (an index built from a copy that did not is
    // let go unseen).
    const read: { index?: IndexFromPieces } = {};
    const opened = readSealedLocal(this.path, this.metaKey, this.aad, (size) => {
      const building = (read.index = MasterIndex.fromPieces(size));
      return (piece) => building.push(piece);
    });
    if (!opened || !read.index) return null;
    let index: MasterIndex;
    try {
      index = read.index.finish();
    } catch {
      return null;
    }
    if (!index.builtFrom(names)) return null;
    this.onDisk = names;
    return index;
  }

  /** Replaces the copy (under a temporary name, then renamed, so readers never see half of one). */
  save(index: MasterIndex): void {
    // A backup that stored nothing new leaves the index as it was loaded: the copy is still right.
    if (this.onDisk && index.builtFrom(this.onDisk)) return;
    if (saveSealedLocal(this.dir, this.path, this.metaKey, this.aad, index.toParts())) this.onDisk = [...index.files];
  }
}
