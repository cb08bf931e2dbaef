/**
 * A write that takes as many calls as it needs. A write may be short; one that makes no progress
 * (a full disk, on some file systems) must never pass as success, so it fails as ENOSPC. Pack
 * files (`local-folder.ts`), the local index cache (`repo/index-cache.ts`) and restored files are
 * written through it: large restored files (`restore/direct-writes.ts`) on the thread pool, small
 * ones and the cache with blocking calls.
 */
import { write, writeSync } from 'node:fs';

/** `length` bytes from the start of `data`, at `position` in the file open as `fd`. */
export async function writeFully(fd: number, data: Uint8Array, length: number, position: number): Promise<void> {
  for (let done = 0; done < length; ) {
    const n = await new Promise<number>((resolve, reject) => write(fd, data, done, length - done, position + done, (err, n) => (err ? reject(err) : resolve(n))));
    done += progress(n);
  }
}

/** `writeFully` with blocking calls, on the calling thread. */
export function writeFullySync(fd: number, data: Uint8Array, length: number, position: number, write = writeSync): void {
  for (let done = 0; done < length; ) done += progress(write(fd, data, done, length - done, position + done));
}

/**
 * What one call wrote, when it wrote anything. A call that wrote nothing fails as the system's own
 * ENOSPC from `write` would, so callers tell it the same way (a restore's `targetError` goes by the
 * call that failed).
 */
function progress(n: number): number {
  if (n <= 0) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', syscall: 'write' });
  return n;
}

/** `parts`, one after another, from the start of the file open as `fd`. */
export async function writePartsFully(fd: number, parts: readonly Uint8Array[]): Promise<void> {
  let position = 0;
  for (const part of parts) {
    await writeFully(fd, part, part.length, position);
    position += part.length;
  }
}
