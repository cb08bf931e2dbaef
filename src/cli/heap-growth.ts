/**
 * A backup's JavaScript heaps grow with the export: its chunk ids, the parent
 * snapshot's listings, the scan. V8 lets an old generation grow to a multiple
 * of what survived the last full collection before it collects again (up to
 * four times on a fast machine), so at 3 GiB the main thread's old generation
 * held 57-79 MiB where 40 were live. Letting it grow by a fifth instead,
 * backups after the 3 GiB export's database grew 1% peaked at 256-296 MiB
 * against 293-329 (three runs each), after the 1 GiB one's at 181-184 against
 * 187-198 (four each), in the same time; a 3 GiB first backup 5-10 MiB lower,
 * for up to 1 CPU second more.
 *
 * Set by the backup command for its own process only, at run time (V8 reads
 * this value at each collection, unlike the options in bin/chatsafe.js): a
 * restore's main thread makes short-lived garbage for each of tens of
 * thousands of blobs, and took 0.45 CPU seconds more with it.
 */
import { setFlagsFromString } from 'node:v8';

/** Percent an old generation may grow past what its last full collection kept. */
const BACKUP_HEAP_GROWING_PERCENT = 20;

let set = false;

export function growHeapsSlowly(): void {
  if (set) return;
  set = true;
  setFlagsFromString(`--heap-growing-percent=${BACKUP_HEAP_GROWING_PERCENT}`);
}
