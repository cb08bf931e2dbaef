/**
 * A job worker: runs one job body off the thread that serves the window,
 * forwards its progress (at most a few events a second, ProgressMeter's
 * pace), and turns a `cancel` message into the job's AbortSignal. Errors go
 * back as typed AppErrors, never as stack traces.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { toAppError } from '../errors.js';
import { JOB_BODIES } from './bodies.js';
import type { FromWorker, JobStart, ToWorker } from './protocol.js';

const port = parentPort;
if (!port) throw new Error('job-worker.js runs only as a worker thread');
const start = workerData as JobStart;
const controller = new AbortController();
const send = (m: FromWorker) => port.postMessage(m);

port.on('message', (m: ToWorker) => {
  if (m.type === 'cancel') controller.abort();
});

const body = JOB_BODIES[start.channel] as (req: unknown, ctx: Parameters<(typeof JOB_BODIES)['detect']>[1]) => Promise<unknown>;
body(start.request, { signal: controller.signal, session: start.session, destination: start.destination, indexCacheDir: start.indexCacheDir, onProgress: (progress) => send({ type: 'progress', progress: { ...progress } }) }).then(
  (value) => send({ type: 'done', value }),
  (e: unknown) => send({ type: 'failed', error: toAppError(e) }),
);
