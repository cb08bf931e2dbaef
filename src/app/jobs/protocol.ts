/** Messages between the job runner and a job worker (one worker per job). */
import type { AppError, JobChannel, Progress } from '../contract.js';
import type { Destination } from '../access.js';
import type { SessionRef } from './bodies.js';

export interface JobStart {
  readonly channel: JobChannel;
  /** Already validated against the contract. */
  readonly request: unknown;
  readonly session: SessionRef | null;
  /** The request's address, resolved (credentials cross only this in-process boundary). */
  readonly destination: Destination | null;
  readonly indexCacheDir: string | null;
}

export type ToWorker = { type: 'cancel' };

export type FromWorker =
  | { type: 'progress'; progress: Progress }
  | { type: 'done'; value: unknown }
  | { type: 'failed'; error: AppError };
