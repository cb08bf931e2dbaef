/**
 * Files a target already holds exactly as the snapshot has them. A restore
 * that was cancelled or failed keeps the files it completed (whole files
 * only), and the message says to run the command again: that run must not
 * call those files conflicts. A file counts as restored only when it is a
 * regular file of the snapshot's size whose bytes, cut where the snapshot's
 * chunks end, have the snapshot's chunk ids (HMACs under the repository's id
 * key). Size and time alone would also pass a file someone edited in place
 * within the same second, and a marker left by the cancelled run would not
 * see edits made after it; anything that differs stays a conflict.
 */
import { constants as fsc, lstatSync, opendirSync, type Stats } from 'node:fs';
import { open } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { blobIdHash, ID_BYTES } from '../crypto/ids.js';
import { isChatsafeError, throwIfCancelled } from '../errors.js';
import type { ChunkList } from '../repo/chunk-list.js';
import { blankPlace, type BlobIndex, type BlobPlace } from '../repo/master-index.js';

/** Read at once while comparing: large enough for few calls, small beside a restore's buffers. */
const READ_BYTES = 1024 * 1024;

interface SnapshotFile {
  readonly relPath: string;
  readonly size: number;
  readonly content: ChunkList;
}

/** The `relPath`s of `files` that `target` holds with the snapshot's bytes; none when the target is new or empty. */
export async function filesAlreadyRestored(target: string, files: readonly SnapshotFile[], index: BlobIndex, idKey: Buffer, signal?: AbortSignal): Promise<Set<string>> {
  const root = resolve(target);
  const same = new Set<string>();
  if (!holdsAnything(root)) return same;
  const buf = Buffer.allocUnsafe(READ_BYTES);
  const place = blankPlace();
  for (const f of files) {
    const path = join(root, ...f.relPath.split('/'));
    const st = lstatIfThere(path);
    if (!st?.isFile() || st.size !== f.size) continue;
    throwIfCancelled(signal);
    if (await hasSnapshotBytes(path, f, index, idKey, buf, place, signal)) same.add(f.relPath);
  }
  return same;
}

/**
 * What is at `path`, or nothing where a file stands in place of one of its folders (ENOTDIR): the
 * restore's own check of the target names that, as a path of the wrong kind.
 */
function lstatIfThere(path: string): Stats | undefined {
  try {
    return lstatSync(path, { throwIfNoEntry: false });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw e;
  }
}

function holdsAnything(root: string): boolean {
  if (!lstatIfThere(root)?.isDirectory()) return false;
  const dir = opendirSync(root);
  try {
    return dir.readSync() !== null;
  } finally {
    dir.closeSync();
  }
}

/** Whether the file at `path` is `f`'s bytes; false also when it cannot be read. */
async function hasSnapshotBytes(path: string, f: SnapshotFile, index: BlobIndex, idKey: Buffer, buf: Buffer, place: BlobPlace, signal?: AbortSignal): Promise<boolean> {
  let fh;
  try {
    fh = await open(path, fsc.O_RDONLY | fsc.O_NOFOLLOW);
  } catch {
    return false;
  }
  try {
    const ids = f.content.bytes();
    let pos = 0;
    let got = 0;
    let used = 0;
    for (let at = 0; at < ids.length; at += ID_BYTES) {
      if (!index.locateAt(ids, at, place) || place.type !== 'data') return false;
      const hash = blobIdHash(idKey);
      for (let left = place.rawLength; left > 0; ) {
        if (used === got) {
          throwIfCancelled(signal);
          got = (await fh.read(buf, 0, buf.length, pos)).bytesRead;
          if (got === 0) return false;
          pos += got;
          used = 0;
        }
        const n = Math.min(left, got - used);
        hash.update(buf.subarray(used, used + n));
        used += n;
        left -= n;
      }
      if (!hash.digest().equals(ids.subarray(at, at + ID_BYTES))) return false;
    }
    // Every byte read was a chunk's, and the file ends where the snapshot's does.
    return used === got && pos === f.size && (await fh.read(buf, 0, 1, pos)).bytesRead === 0;
  } catch (e) {
    if (isChatsafeError(e)) throw e; // a cancel
    return false;
  } finally {
    await fh.close();
  }
}
