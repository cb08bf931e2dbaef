/**
 * A worker thread that looks ids up in an index's shared buffers, as a backup's crypto worker does,
 * over and over until told to stop, while the main thread adds to the index; it answers with how
 * often an id the index held from the start was missed, and an id it never held was found.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { IndexedIds, type IndexedIdBuffers } from '../../src/core/repo/indexed-ids.js';

const { buffers, held, absent } = workerData as { buffers: IndexedIdBuffers; held: Uint8Array[]; absent: Uint8Array[] };
const view = IndexedIds.attach(buffers);
let stop = false;
parentPort!.on('message', () => (stop = true));
let rounds = 0;
let missed = 0;
let found = 0;
function round(): void {
  for (const id of held) if (!view.has(id)) missed++;
  for (const id of absent) if (view.has(id)) found++;
  rounds++;
  if (stop) parentPort!.postMessage({ rounds, missed, found });
  else setImmediate(round);
}
parentPort!.postMessage('ready');
round();
