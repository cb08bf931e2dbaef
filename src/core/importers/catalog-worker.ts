/**
 * Worker thread that builds a chat catalog, so a first backup can store the
 * export's files on the other threads meanwhile (the import is CPU-bound
 * SQLite work that would otherwise hold the backup's main thread).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { buildCatalog } from './import.js';
import type { CatalogWorkerData, FromCatalogWorker } from './catalog-in-worker.js';

const { source, catalogPath } = workerData as CatalogWorkerData;
const controller = new AbortController();
const send = (m: FromCatalogWorker) => parentPort!.postMessage(m);

parentPort!.on('message', (m: unknown) => {
  if (m === 'cancel') controller.abort();
});

buildCatalog(source, catalogPath, { signal: controller.signal, onProgress: (progress) => send({ type: 'progress', progress }) }).then(
  (report) => send({ type: 'done', report }),
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
