/**
 * buildCatalog in a worker thread: same result, same errors, same progress
 * and cancellation, while the calling thread goes on with other work.
 * Sources that need a WhatsApp key are built in-process instead: the key's
 * material never leaves the thread that holds it.
 */
import { Worker } from 'node:worker_threads';
import { ChatsafeError, type ErrorKind } from '../errors.js';
import { youngGeneration } from '../jobs/worker-heaps.js';
import type { ImportOptions, ImportProgress, ImportReport } from './types.js';

export interface CatalogWorkerData {
  readonly source: string;
  readonly catalogPath: string;
  /** Media digests to keep (`media-digests.ts`), with the last build's; null: none kept. */
  readonly digests: { readonly known: Uint8Array | null } | null;
}

export type FromCatalogWorker =
  | { type: 'progress'; progress: ImportProgress }
  | { type: 'done'; report: ImportReport; digests: Uint8Array | null }
  | { type: 'error'; kind: string | null; message: string; hint: string | null };

/**
 * Measured on the 1 and 3 GiB bench exports: 8 MiB took the same CPU time as V8's default, about
 * 10 MiB less at the peak; 2 MiB the same time again, another 5 MiB less (three runs each, the
 * catalog alone). The command's own flag overrode it (`youngGeneration`) with 4 MiB of new space:
 * with it cleared, the 3 GiB catalog alone peaked at 78 against 80-83 MB in the same time, and
 * three alternating 3 GiB first backups at 153-155 against 156-158 MiB.
 */
const YOUNG_GENERATION_MB = 2;

export interface CatalogInWorkerOptions extends Omit<ImportOptions, 'mediaDigests'> {
  /** Keep media digests, starting from the last build's records (null: none yet). */
  readonly digests?: { readonly known: Uint8Array | null };
}

export interface CatalogBuilt {
  readonly report: ImportReport;
  /** This build's media digests, sorted, when asked to keep them. */
  readonly digests: Uint8Array | null;
}

export function buildCatalogInWorker(source: string, catalogPath: string, opts: CatalogInWorkerOptions = {}): Promise<CatalogBuilt> {
  return new Promise<CatalogBuilt>((resolve, reject) => {
    const workerData: CatalogWorkerData = { source, catalogPath, digests: opts.digests ?? null };
    // The import makes millions of short-lived row objects; a small young generation is collected
    // more often and keeps the worker's memory flat instead of growing to V8's default.
    const worker = new Worker(new URL('./catalog-worker.js', import.meta.url), { workerData, resourceLimits: youngGeneration(YOUNG_GENERATION_MB) });
    let settled = false;
    const finish = (f: () => void) => {
      if (settled) return;
      settled = true;
      opts.signal?.removeEventListener('abort', onAbort);
      void worker.terminate();
      f();
    };
    const onAbort = () => worker.postMessage('cancel');
    if (opts.signal?.aborted) onAbort();
    else opts.signal?.addEventListener('abort', onAbort, { once: true });
    worker.on('message', (m: FromCatalogWorker) => {
      if (m.type === 'progress') opts.onProgress?.(m.progress);
      else if (m.type === 'done') finish(() => resolve({ report: m.report, digests: m.digests }));
      else finish(() => reject(m.kind ? new ChatsafeError(m.kind as ErrorKind, m.message, m.hint ?? undefined) : new Error(m.message)));
    });
    worker.on('error', (e) => finish(() => reject(e)));
    worker.on('exit', (code) => finish(() => reject(new Error(`the catalog worker stopped (exit code ${code})`))));
  });
}
