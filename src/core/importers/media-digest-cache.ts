/**
 * Where a source's media digests (`media-digests.ts`) wait between backups:
 * one local file per repository and source, beside the index cache, sealed
 * under the repository's metadata key with its own label, the repository id
 * and the source's path as associated data. A digest of a file says what the
 * file holds to anyone who has the same file, so it is kept as the index
 * cache is: unreadable without the key, and not to be forged or moved from
 * one source to another without it.
 *
 * Like the index cache, it holds nothing the source does not: a copy that is
 * missing, damaged or from another source is ignored and the media are hashed
 * again, and failing to write one is never an error.
 */
import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import { aadOf } from '../crypto/aead.js';
import { loadSealedLocal, saveSealedLocal } from '../repo/sealed-local-file.js';

const LABEL = 'chatsafe/v1/local-media-digests';

export class MediaDigestCache {
  private readonly path: string;
  private readonly aad: Buffer;

  constructor(
    private readonly dir: string,
    repoId: string,
    private readonly metaKey: Buffer,
    source: string,
  ) {
    const where = resolve(source);
    // Named by a hash of the source's path: the name says nothing of where the export is.
    const name = createHash('sha256').update(`${repoId}\0${where}`).digest('hex').slice(0, 32);
    this.path = join(dir, `${repoId}.media-${name}`);
    this.aad = aadOf(LABEL, Buffer.from(repoId, 'utf8'), Buffer.from(where, 'utf8'));
  }

  /**
   * The records of the last build of this source as they were sealed, or null when there are none.
   * Whether they are whole and sorted is decided where that matters, by `MediaDigests`, which
   * ignores a set that is not.
   */
  load(): Uint8Array | null {
    return loadSealedLocal(this.path, this.metaKey, this.aad);
  }

  /** Replaces the copy; false when it could not be written (the next build hashes every file again). */
  save(records: Uint8Array): boolean {
    return saveSealedLocal(this.dir, this.path, this.metaKey, this.aad, [records]);
  }
}
