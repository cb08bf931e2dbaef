/**
 * A blocking read that takes as many calls as it needs, the twin of `writeFullySync`: a read may be
 * short, and one that reads nothing means the file ends first. The local index cache's nonce and tag
 * (`repo/sealed-local-file.ts`) and the index's temporary rows (`repo/row-store.ts`) are read so.
 */
import { readSync } from 'node:fs';

/** Fills `into[0, length)` from `position` in the file open as `fd`; false when the file ends first. */
export function readFullySync(fd: number, into: Uint8Array, length: number, position: number): boolean {
  for (let got = 0; got < length; ) {
    const n = readSync(fd, into, got, length - got, position + got);
    if (n === 0) return false;
    got += n;
  }
  return true;
}
