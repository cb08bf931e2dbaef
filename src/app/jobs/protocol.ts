/** Messages between the job runner and a job worker (one worker per job). */
import type { AppError, JobChannel, Progress } from '../contract.js';
import type { SessionRef } from './bodies.js';

export interface JobStart {
  readonly channel: JobChannel;
  /** Already validated against the contract. */
  readonly request: unknown;
  readonly session: SessionRef | null;
}

export type ToWorker = { type: 'cancel' };

export type FromWorker =
  | { type: 'progress'; progress: Progress }
  | { type: 'done'; value: unknown }
  | { type: 'failed'; error: AppError };
