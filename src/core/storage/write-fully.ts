/**
 * A write that takes as many calls as it needs. A write may be short; one that makes no progress
 * (a full disk, on some file systems) must never pass as success, so it fails as ENOSPC. Both
 * pack files (`local-folder.ts`) and restored files (`restore/direct-writes.ts`) are written
 * through it, on the thread pool.
 */
import { write } from 'node:fs';

/** `length` bytes from the start of `data`, at `position` in the file open as `fd`. */
export async function writeFully(fd: number, data: Uint8Array, length: number, position: number): Promise<void> {
  for (let done = 0; done < length; ) {
    const n = await new Promise<number>((resolve, reject) => write(fd, data, done, length - done, position + done, (err, n) => (err ? reject(err) : resolve(n))));
    if (n <= 0) throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
    done += n;
  }
}

/** `parts`, one after another, from the start of the file open as `fd`. */
export async function writePartsFully(fd: number, parts: readonly Uint8Array[]): Promise<void> {
  let position = 0;
  for (const part of parts) {
    await writeFully(fd, part, part.length, position);
    position += part.length;
  }
}
