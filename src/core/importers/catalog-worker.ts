/**
 * Worker thread that builds a chat catalog, so a first backup can store the
 * export's files on the other threads meanwhile (the import is CPU-bound
 * SQLite work that would otherwise hold the backup's main thread).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { collectAllGarbage } from '../jobs/v8-collector.js';
import { buildCatalog } from './import.js';
import { MediaDigests } from './media-digests.js';
import type { ImportProgress } from './types.js';
import type { CatalogWorkerData, FromCatalogWorker } from './catalog-in-worker.js';

const { source, catalogPath, digests: keep } = workerData as CatalogWorkerData;
const mediaDigests = keep ? new MediaDigests(keep.known) : undefined;
const controller = new AbortController();
const send = (m: FromCatalogWorker) => parentPort!.postMessage(m);

parentPort!.on('message', (m: unknown) => {
  if (m === 'cancel') controller.abort();
});

/**
 * Each step of a build leaves what the last one read as garbage (the rows of messages, as
 * JavaScript values): one full collection as a step begins frees it while the backup beside this
 * thread still needs memory, where V8 would keep it to the end of the build (five alternating
 * first backups of the 1 GiB export each: medians 150 against 153 MiB, in the same time).
 */
let step: ImportProgress['phase'] | null = null;
const onProgress = (progress: ImportProgress) => {
  if (step !== null && progress.phase !== step) collectAllGarbage();
  step = progress.phase;
  send({ type: 'progress', progress });
};

buildCatalog(source, catalogPath, { signal: controller.signal, onProgress, ...(mediaDigests ? { mediaDigests } : {}) }).then(
  (report) => send({ type: 'done', report, digests: mediaDigests?.sortedRecords() ?? null }),
  (e: unknown) => {
    const err = e as { kind?: unknown; message?: unknown; hint?: unknown };
    send({
      type: 'error',
      kind: typeof err?.kind === 'string' ? err.kind : null,
      message: typeof err?.message === 'string' ? err.message : String(e),
      hint: typeof err?.hint === 'string' ? err.hint : null,
    });
  },
);
