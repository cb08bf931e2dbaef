/**
 * Starts each job in its own worker thread and keeps track of it by the id
 * the front chose, so the front can cancel it before or after it answers.
 * A cancelled job is asked to stop (the core checks its signal between units
 * of work and keeps nothing half-written); if it has not stopped after a
 * grace period the worker is terminated, which the core's atomic writes also
 * survive.
 */
import { Worker } from 'node:worker_threads';
import { youngGeneration } from '../../core/jobs/worker-heaps.js';
import type { AppError, JobChannel, Progress, Result } from '../contract.js';
import { appError } from '../errors.js';
import type { Destination } from '../access.js';
import type { SessionRef } from './bodies.js';
import type { FromWorker, JobStart, ToWorker } from './protocol.js';

const WORKER_URL = new URL('./job-worker.js', import.meta.url);
const CANCEL_GRACE_MS = 30_000;
/** When the app quits, how long running jobs get to stop on their own (removing their temp files) before they are ended. */
const QUIT_GRACE_MS = 5_000;
/** Enough for two backups and a check at once; more would only compete for the same disk and cores. */
export const MAX_RUNNING_JOBS = 4;
/**
 * A job's thread does what the command's main thread does (a backup's walk and writes, a restore's
 * plan), so it gets the same 2 MiB semi-spaces (bin/chatsafe.js): the Electron process starts with
 * V8's defaults, and the web mode's flag is cleared once a job starts a worker (`youngGeneration`).
 */
const JOB_YOUNG_GENERATION_MB = 6;

interface Running {
  readonly worker: Worker;
  /** Settles when the job has answered or its worker is gone. */
  readonly finished: Promise<void>;
  cancelled: boolean;
}

export class JobRunner {
  private readonly running = new Map<string, Running>();

  /** `indexCacheDir`: handed to every job that opens a repository. */
  constructor(private readonly indexCacheDir: string | null = null) {}

  get size(): number {
    return this.running.size;
  }

  run(jobId: string, channel: JobChannel, request: unknown, session: SessionRef | null, destination: Destination | null, onProgress: (p: Progress) => void): Promise<Result<unknown>> {
    if (this.running.has(jobId)) return Promise.resolve({ ok: false, error: appError('conflict', 'A job with that id is already running.', 'Wait for it to finish.') });
    if (this.running.size >= MAX_RUNNING_JOBS) {
      return Promise.resolve({ ok: false, error: appError('conflict', `${MAX_RUNNING_JOBS} jobs are already running.`, 'Wait for one of them to finish, then try again.') });
    }
    const start: JobStart = { channel, request, session, destination, indexCacheDir: this.indexCacheDir };
    const worker = new Worker(WORKER_URL, { workerData: start, resourceLimits: youngGeneration(JOB_YOUNG_GENERATION_MB) });
    let markFinished!: () => void;
    const entry: Running = { worker, finished: new Promise<void>((r) => (markFinished = r)), cancelled: false };
    this.running.set(jobId, entry);
    return new Promise((resolve) => {
      let settled = false;
      const finish = (r: Result<unknown>) => {
        if (settled) return;
        settled = true;
        this.running.delete(jobId);
        void worker.terminate();
        markFinished();
        resolve(r);
      };
      worker.on('message', (m: FromWorker) => {
        if (m.type === 'progress') onProgress(m.progress);
        else if (m.type === 'done') finish({ ok: true, value: m.value });
        else finish({ ok: false, error: m.error });
      });
      worker.on('error', () => finish({ ok: false, error: internalJobError() }));
      worker.on('exit', () => finish({ ok: false, error: entry.cancelled ? appError('cancelled', 'Cancelled.', 'Nothing half-written was kept; start again when you are ready.') : internalJobError() }));
    });
  }

  /** Returns whether a job with that id was running. */
  cancel(jobId: string): boolean {
    const entry = this.running.get(jobId);
    if (!entry) return false;
    entry.cancelled = true;
    entry.worker.postMessage({ type: 'cancel' } satisfies ToWorker);
    setTimeout(() => void entry.worker.terminate(), CANCEL_GRACE_MS).unref();
    return true;
  }

  async stopAll(): Promise<void> {
    const entries = [...this.running.values()];
    for (const id of [...this.running.keys()]) this.cancel(id);
    // A cancelled job stops at its next check and cleans up after itself; one that does not within the grace period is ended.
    await Promise.all(
      entries.map(async (e) => {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([e.finished, new Promise<void>((r) => (timer = setTimeout(r, QUIT_GRACE_MS)))]);
        clearTimeout(timer);
        await e.worker.terminate();
      }),
    );
  }
}

function internalJobError(): AppError {
  return appError('internal', 'The job stopped unexpectedly.', 'Nothing half-written was kept. Try again; if it happens again, send the diagnostics report to support.');
}
