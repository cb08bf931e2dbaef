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

let gcFn: (() => void) | null | undefined;

function getGc(): (() => void) | null {
  if (gcFn !== undefined) return gcFn;
  try {
    v8.setFlagsFromString('--expose-gc');
    gcFn = vm.runInNewContext('gc') as () => void;
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
      this.gc();
    }
  }
}
