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
 * A restore holds its plan (about 400 bytes a file) to its end, and the larger
 * the plan, the more garbage V8 let pile up beside it: a restore of the 3 GiB
 * export peaked at 161-168 MiB with 29 MiB of main heap, 15 of them live; with
 * this, at 146-151 (three and two alternating runs). It once took a restore's
 * main thread 0.45 CPU seconds more; five alternating restores of the 1 GiB
 * export each now take as long either way (medians 3.5 and 3.7 s, 3.3 user
 * seconds both), as did the 3 GiB ones.
 *
 * Set by the backup and restore commands and the app's backup and restore jobs,
 * for their whole process, at run time (V8 reads this value at each
 * collection, unlike the options in bin/chatsafe.js, and the Electron process
 * takes none of those): other commands keep V8's default.
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
