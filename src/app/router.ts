/**
 * The router behind both transports (Electron IPC and the web mode's HTTP):
 * it checks the channel name and validates the request against the
 * contract before anything runs, runs calls here and jobs in worker threads,
 * checks every response against the contract on the way out, and answers
 * with a `Result`: never a thrown exception, never a stack trace.
 */
import { AppContext, CALL_HANDLERS, type AppContextOptions } from './calls.js';
import { CHANNELS, isChannelName, JobEnvelopeSchema, type AppError, type ChannelName, type JobChannel, type Progress, type Result } from './contract.js';
import { appError, fromFormError, fromZodError, toAppError } from './errors.js';
import type { SessionRef } from './jobs/bodies.js';
import { JobRunner } from './jobs/job-runner.js';

/** Channels whose requests are what people typed into a form: a validation failure is theirs to correct, not a bug. */
const FORM_CHANNELS: ReadonlySet<ChannelName> = new Set(['profiles.save']);

export type ProgressSink = (jobId: string, progress: Progress) => void;

export class Router {
  readonly ctx: AppContext;
  readonly jobs: JobRunner;

  constructor(opts: AppContextOptions) {
    this.ctx = new AppContext(opts);
    this.jobs = new JobRunner(opts.indexCacheDir ?? null);
  }

  /**
   * `channel` and `payload` come straight from the other side and may be
   * anything. For a job channel the payload is `{ jobId, request }`.
   */
  async handle(channel: unknown, payload: unknown, onProgress: ProgressSink = () => undefined): Promise<Result<unknown>> {
    try {
      if (!isChannelName(channel)) {
        return { ok: false, error: appError('usage', `Unknown request "${typeof channel === 'string' ? channel.slice(0, 60) : typeof channel}".`, 'The app window and the app are out of step; restart the app.') };
      }
      const def = CHANNELS[channel];
      if (def.kind === 'job') return await this.runJob(channel as JobChannel, payload, onProgress);
      const parsed = def.request.safeParse(payload);
      if (!parsed.success) return { ok: false, error: FORM_CHANNELS.has(channel) ? fromFormError(parsed.error) : fromZodError(`request for ${channel}`, parsed.error) };
      const value = channel === 'job.cancel' ? { cancelled: this.jobs.cancel((parsed.data as { jobId: string }).jobId) } : await (CALL_HANDLERS[channel as keyof typeof CALL_HANDLERS] as (r: unknown, c: AppContext) => Promise<unknown>)(parsed.data, this.ctx);
      return this.checked(channel, value);
    } catch (e) {
      return { ok: false, error: toAppError(e) };
    }
  }

  /** Validates without running: the HTTP server refuses a bad job request before opening its event stream. */
  validate(channel: unknown, payload: unknown): AppError | null {
    if (!isChannelName(channel)) return appError('usage', 'Unknown request.', 'The app window and the app are out of step; restart the app.');
    const def = CHANNELS[channel];
    let request = payload;
    if (def.kind === 'job') {
      const envelope = JobEnvelopeSchema.safeParse(payload);
      if (!envelope.success) return fromZodError(`job envelope for ${channel}`, envelope.error);
      request = envelope.data.request;
    }
    const parsed = def.request.safeParse(request);
    return parsed.success ? null : fromZodError(`request for ${channel}`, parsed.error);
  }

  private async runJob(channel: JobChannel, payload: unknown, onProgress: ProgressSink): Promise<Result<unknown>> {
    const envelope = JobEnvelopeSchema.safeParse(payload);
    if (!envelope.success) return { ok: false, error: fromZodError(`job envelope for ${channel}`, envelope.error) };
    const { jobId, request } = envelope.data;
    const parsed = CHANNELS[channel].request.safeParse(request);
    if (!parsed.success) return { ok: false, error: fromZodError(`request for ${channel}`, parsed.error) };
    const sessionId = (parsed.data as { sessionId?: string }).sessionId;
    let session: SessionRef | null = null;
    if (sessionId !== undefined) {
      const s = this.ctx.session(sessionId);
      session = { address: s.address, credentials: s.credentials, kind: s.kind, keyHex: s.keyHex };
    }
    const address = (parsed.data as { address?: string }).address;
    const destination = address === undefined ? null : await this.ctx.destination(address);
    const result = await this.jobs.run(jobId, channel, parsed.data, session, destination, (p) => onProgress(jobId, p));
    if (!result.ok) return result;
    return this.checked(channel, result.value);
  }

  private checked(channel: ChannelName, value: unknown): Result<unknown> {
    const out = CHANNELS[channel].response.safeParse(value);
    if (!out.success) return { ok: false, error: appError('internal', 'Chatsafe produced an answer it could not check.', 'Nothing was changed. Try again; if it happens again, send the diagnostics report to support.') };
    return { ok: true, value: out.data };
  }

  async dispose(): Promise<void> {
    await this.jobs.stopAll();
    await this.ctx.dispose();
  }
}
