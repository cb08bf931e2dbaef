/**
 * V8's own collector entry point, exposed the way V8 allows at run time: the
 * flag is set, and a new context gets the function. Where that is refused,
 * callers collect nothing early and only memory is spent.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** With `{ type: 'minor' }`, a scavenge of the young generation; without options, a full collection. */
export type Collect = (options?: { type: 'minor' }) => void;

let collector: Collect | null | undefined;

export function v8Collector(): Collect | null {
  if (collector !== undefined) return collector;
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as unknown;
    collector = typeof gc === 'function' ? (gc as Collect) : null;
  } catch {
    collector = null;
  }
  return collector;
}

/**
 * A full collection, where a job has just made most of its heap garbage and
 * is about to need memory for something else. V8 otherwise keeps an old
 * generation's garbage until it has grown to a multiple of what survived the
 * last full collection, and the pages it grew into stay resident meanwhile.
 */
export function collectAllGarbage(): void {
  // No options: this V8 (Node 20) does not collect fully when given `{ type: 'major' }`.
  v8Collector()?.();
}
