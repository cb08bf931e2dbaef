/**
 * Output files written under a temporary name and renamed into place. A
 * rename replaces whatever has the name: run as root, that included a device
 * node such as /dev/null, or a FIFO, which nobody naming an output file means
 * to replace.
 */
import { promises as fs } from 'node:fs';
import { dirname } from 'node:path';
import { ChatsafeError, UsageError } from './errors.js';

/** Refuses an existing `path` that is not a regular file (or a link to one, or a dangling link, which the rename replaces). */
export async function assertReplaceableFile(path: string): Promise<void> {
  const own = await fs.lstat(path).catch(() => null);
  if (!own || own.isFile()) return;
  const target = own.isSymbolicLink() ? await fs.stat(path).catch(() => null) : own;
  if (!target || target.isFile()) return;
  if (target.isDirectory()) throw new UsageError(`${path} is a folder.`, 'Give the name of a file to write, inside that folder or elsewhere.');
  throw new UsageError(`${path} exists and is not a regular file; refusing to replace it.`, 'Choose another output file name.');
}

/** A failure to create the temporary file beside `path`, in terms of the path given. */
export function outputFileError(e: unknown, path: string): unknown {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT') return new UsageError(`Cannot write ${path}: the folder ${dirname(path)} does not exist.`, 'Create the folder first, or choose another place.');
  if (code === 'ENOTDIR') return new UsageError(`Cannot write ${path}: ${dirname(path)} is not a folder (a part of it is a file).`, 'Choose another place for the file.');
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
    return new ChatsafeError('io', `Cannot write ${path}: ${code}.`, 'Check that you may write to that folder, or choose another place.', { cause: e });
  }
  return e;
}
