/**
 * One retry policy for every network back end (S3, WebDAV), so that "what is
 * worth trying again" is decided in one place and documented in STORAGE.md.
 *
 * Transient failures (connection resets and refusals, timeouts, 408/429/500/
 * 502/503/504, S3's SlowDown/InternalError) are retried with exponential
 * backoff and jitter, a bounded number of times, and stop at once when the
 * caller's AbortSignal fires. Permanent failures (bad credentials, a missing
 * bucket, a full quota, an unexpected 404) fail on the first answer with a
 * ChatsafeError that says what happened and what to do.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { CancelledError, ChatsafeError } from '../errors.js';

export interface RetryPolicy {
  /** Attempts in total, the first one included. */
  readonly attempts: number;
  /** Delay before the second attempt; doubles after each failure. */
  readonly baseDelayMs: number;
  /** Upper bound for a single delay. */
  readonly maxDelayMs: number;
}

/** About a minute of patience in total: long enough for a gateway restart, short enough to notice an outage. */
export const DEFAULT_RETRY: RetryPolicy = { attempts: 9, baseDelayMs: 250, maxDelayMs: 15_000 };

/** What a back end could tell about a failed request, without any secret in it. */
export interface FailureFacts {
  /** HTTP status, when the server answered at all. */
  readonly status?: number;
  /** S3 error code (`NoSuchBucket`, `SlowDown`, ...) or Node's errno (`ECONNRESET`, ...). */
  readonly code?: string;
}

const TRANSIENT_STATUS = new Set([408, 429, 500, 502, 503, 504]);
const TRANSIENT_CODES = new Set([
  // Node and undici network failures
  'ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN', 'EAI_AGAIN',
  'ERR_STREAM_PREMATURE_CLOSE', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT',
  'TimeoutError', 'RequestTimeout', 'RequestTimeoutException',
  // S3 error codes that mean "later"
  'SlowDown', 'InternalError', 'ServiceUnavailable', 'Throttling', 'ThrottlingException', 'RequestThrottled',
  // a body that arrived shorter or longer than announced, or failed its checksum in transit
  'TruncatedBody', 'BodyTooLong', 'BadDigest', 'ChecksumMismatch',
]);
const CREDENTIAL_CODES = new Set(['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'AccessDenied', 'InvalidToken', 'ExpiredToken', 'AuthorizationHeaderMalformed']);
const QUOTA_CODES = new Set(['QuotaExceeded', 'InsufficientStorage', 'EntityTooLarge', 'ENOSPC', 'EDQUOT']);

export function isTransient(f: FailureFacts): boolean {
  if (f.code !== undefined && TRANSIENT_CODES.has(f.code)) return true;
  return f.status !== undefined && TRANSIENT_STATUS.has(f.status);
}

/** What the permanent-error messages need to know about the back end. */
export interface FailureContext {
  /** `location` of the back end (no secrets). */
  readonly location: string;
  /** What we were doing, e.g. `writing data/3f9a...`. */
  readonly doing: string;
  /** Where the credentials come from, for the hint on 401/403. */
  readonly credentialHint: string;
  /** The S3 bucket, to name it when it is missing. */
  readonly bucket?: string;
}

/**
 * The ChatsafeError for a failure that retrying will not fix (or that kept
 * failing). The client library's own error is not attached: it can carry
 * request headers and signed URLs; only status and code survive, in `cause`.
 */
export function permanentError(f: FailureFacts, ctx: FailureContext, attempts = 1): ChatsafeError {
  const cause = new Error(`storage request failed: ${[f.status, f.code].filter((x) => x !== undefined).join(' ') || 'no answer'}`);
  const what = [f.status, f.code].filter((x) => x !== undefined).join(' ') || 'no answer';
  if (f.code === 'NoSuchBucket') {
    return new ChatsafeError('not-found', `The bucket${ctx.bucket ? ` ${ctx.bucket}` : ''} does not exist at ${ctx.location}.`,
      'Create the bucket with your provider first, or check the bucket name, the endpoint and the region in the address.', { cause });
  }
  if (f.status === 401 || f.status === 403 || (f.code !== undefined && CREDENTIAL_CODES.has(f.code))) {
    return new ChatsafeError('io', `The storage server at ${ctx.location} refused the credentials while ${ctx.doing} (${what}).`,
      `Check ${ctx.credentialHint}, and that this account may read and write there.`, { cause });
  }
  if (f.status === 507 || (f.code !== undefined && QUOTA_CODES.has(f.code))) {
    return new ChatsafeError('io', `The storage at ${ctx.location} is full or over its quota while ${ctx.doing} (${what}).`,
      'Free some space or raise the quota with your provider, then run the command again; what already landed is kept.', { cause });
  }
  if (f.status === 404) {
    return new ChatsafeError('not-found', `${ctx.location}: not found while ${ctx.doing} (${what}).`,
      'Check the address (host, path, bucket and prefix); the repository may have been moved or deleted.', { cause });
  }
  if (f.status === 412) {
    return new ChatsafeError('conflict', `${ctx.location}: the object already exists while ${ctx.doing}.`, undefined, { cause });
  }
  if (isTransient(f)) {
    return new ChatsafeError('io', `The storage server at ${ctx.location} kept failing while ${ctx.doing} (${what}, ${attempts} attempts).`,
      'The server or the network seems to be down. Run the command again later; what already landed is kept and will not be uploaded again.', { cause });
  }
  return new ChatsafeError('io', `The storage server at ${ctx.location} failed while ${ctx.doing} (${what}).`,
    'Check the address and that the server is an S3 or WebDAV server as expected, then run the command again.', { cause });
}

export interface RetryOptions {
  readonly policy: RetryPolicy;
  readonly signal?: AbortSignal | undefined;
  /** Reads status and code out of whatever the client library threw. */
  readonly facts: (e: unknown) => FailureFacts;
  readonly context: FailureContext;
}

/**
 * Runs `op` until it succeeds, a permanent failure occurs, or the policy runs
 * out. `op` gets the attempt number (1-based) so that it can tell a first try
 * from a retry whose predecessor may have landed without us hearing back.
 * ChatsafeErrors thrown by `op` are decisions already made and pass through.
 */
export async function withRetry<T>(op: (attempt: number) => Promise<T>, o: RetryOptions): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    if (o.signal?.aborted) throw new CancelledError();
    try {
      return await op(attempt);
    } catch (e) {
      if (o.signal?.aborted) throw new CancelledError();
      if (e instanceof ChatsafeError) throw e;
      const f = o.facts(e);
      if (!isTransient(f) || attempt >= o.policy.attempts) throw permanentError(f, o.context, attempt);
      try {
        await sleep(backoffDelay(o.policy, attempt), undefined, { signal: o.signal });
      } catch {
        throw new CancelledError();
      }
    }
  }
}

/** "Equal jitter": half the exponential delay fixed, half random, so clients that failed together spread out. */
export function backoffDelay(p: RetryPolicy, failedAttempt: number): number {
  const exp = Math.min(p.maxDelayMs, p.baseDelayMs * 2 ** (failedAttempt - 1));
  return exp / 2 + Math.random() * (exp / 2);
}

/** Node errno / undici code / library error name, as found on the error or its cause. */
export function networkCode(e: unknown): string | undefined {
  for (let cur: unknown = e, depth = 0; cur && depth < 4; cur = (cur as { cause?: unknown }).cause, depth++) {
    const c = (cur as { code?: unknown }).code;
    if (typeof c === 'string' && c !== '') return c;
    const name = (cur as { name?: unknown }).name;
    if (name === 'TimeoutError') return 'TimeoutError';
  }
  return undefined;
}
