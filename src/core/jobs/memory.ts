/**
 * Keeps peak memory flat during long jobs. Backups and restores move every
 * byte through short-lived buffers; V8 collects them only after a large
 * amount of external memory has built up in each isolate (the main thread
 * and every worker), which would triple the peak. Each isolate therefore
 * runs a cheap garbage collection after every few MiB it has processed.
 */
import v8 from 'node:v8';
import vm from 'node:vm';

const EVERY_BYTES = 8 * 1024 * 1024;

type GcFn = (options?: { type?: 'minor' | 'major' }) => void;
let gcFn: GcFn | null | undefined;

function getGc(): GcFn | null {
  if (gcFn !== undefined) return gcFn;
  try {
    v8.setFlagsFromString('--expose-gc');
    gcFn = vm.runInNewContext('gc') as GcFn;
  } catch {
    gcFn = null;
  }
  return gcFn;
}

export class GarbageBudget {
  private since = 0;
  private readonly gc = getGc();

  /** Counts bytes whose buffers are now garbage; collects when enough have piled up. */
  spent(bytes: number): void {
    this.since += bytes;
    if (this.since >= EVERY_BYTES && this.gc) {
      this.since = 0;
      // A scavenge is enough: the buffers die young, and it costs a fraction of a full collection.
      this.gc({ type: 'minor' });
    }
  }
}
