/**
 * The importers count what they read (messages, then media files); a job's
 * listener wants `JobProgress`. This turns the one into the other for the
 * 'importing' phase, with an ETA from the count's own rate, at the same pace
 * as ProgressMeter (a few events a second, every step change at once).
 */
import { throwIfCancelled } from '../errors.js';
import type { ProgressListener } from '../jobs/progress.js';
import type { ImportOptions, ImportProgress } from './types.js';

const INTERVAL_MS = 200;

export function importProgressListener(listener: ProgressListener | undefined, expectedMessages: number | null): ((p: ImportProgress) => void) | undefined {
  if (!listener) return undefined;
  let step: ImportProgress['phase'] | null = null;
  let stepStart = 0;
  let stepStartDone = 0;
  let lastEmit = 0;
  const emit = (p: ImportProgress) => {
    const now = Date.now();
    const changed = p.phase !== step;
    if (changed) {
      step = p.phase;
      stepStart = now;
      // Counted from the first event seen: the listener may join a step already under way (the backup shows the import once the files are stored).
      stepStartDone = p.done;
    } else if (now - lastEmit < INTERVAL_MS) return;
    lastEmit = now;
    // Importers that cannot count ahead (iPhone, text exports) get the total detection found.
    const total = p.total ?? (p.phase === 'reading' ? expectedMessages : null);
    const seconds = (now - stepStart) / 1000;
    const rate = seconds > 0 ? (p.done - stepStartDone) / seconds : 0;
    listener({
      phase: 'importing',
      bytesDone: 0,
      bytesTotal: null,
      filesDone: 0,
      filesTotal: null,
      rate: 0,
      etaSeconds: total !== null && rate > 0 ? Math.max(0, total - p.done) / rate : null,
      importStep: { step: p.phase, done: p.done, total },
    });
  };
  return emit;
}

/** How often (in messages) an importer's loop reports, checks for cancellation and lets the event loop run. */
const CHECKPOINT_EVERY = 10_000;

/**
 * Called once per message by importers whose loop is otherwise synchronous:
 * every CHECKPOINT_EVERY messages it reports progress, honours a cancel, and
 * yields so that a job worker can receive the cancel message at all.
 */
export async function readingCheckpoint(done: number, total: number | null, opts: ImportOptions): Promise<void> {
  if (done % CHECKPOINT_EVERY !== 0) return;
  throwIfCancelled(opts.signal);
  opts.onProgress?.({ phase: 'reading', done, total });
  await new Promise<void>((r) => (TEST_PAUSE_MS > 0 ? setTimeout(r, TEST_PAUSE_MS) : setImmediate(r)));
}

/**
 * For end-to-end tests only: a pause at each checkpoint, from
 * `CHATSAFE_TEST_IMPORT_PAUSE_MS` (whole milliseconds, at most 1000), so that a
 * test which watches the count and cancels midway finds the reading still
 * going on a fast machine as on a slow one: 300,000 messages were read in
 * under half a second, between two of the window's progress updates. Unset
 * or invalid, nothing waits.
 */
const TEST_PAUSE_MS = testPause(process.env.CHATSAFE_TEST_IMPORT_PAUSE_MS);

export function testPause(value: string | undefined): number {
  if (value === undefined || !/^\d{1,4}$/.test(value)) return 0;
  return Math.min(Number(value), 1000);
}
