/**
 * A worker thread's young generation, as its `resourceLimits` ask for it.
 *
 * V8 sizes a new heap's semi-spaces from the process's `--max-semi-space-size`
 * whenever one was given, over the limits a worker was started with. The
 * chatsafe command gives its main thread 2 MiB semi-spaces in its `#!` line
 * (bin/chatsafe.js), and with that every worker it started got them too,
 * whatever it asked: the catalog worker's 2 MiB young generation was 4 MiB of
 * new space. The Electron app, started without the flag, gave its workers
 * what they asked. The flag has done its work once the main thread's heap is
 * made, so it is cleared before the first worker starts.
 */
import { setFlagsFromString } from 'node:v8';
import type { ResourceLimits } from 'node:worker_threads';

let cleared = false;

export function youngGeneration(mb: number): ResourceLimits {
  if (!cleared) {
    cleared = true;
    setFlagsFromString('--max-semi-space-size=0');
  }
  return { maxYoungGenerationSizeMb: mb };
}
