/**
 * Turning anything thrown behind the contract into a typed `AppError`. A
 * ChatsafeError keeps its kind, message and hint; a validation failure
 * becomes `usage` naming the field; anything else is a bug and is reported
 * as `internal` with a fixed message, never its text or stack (which could
 * carry paths, content or key material).
 */
import type { ZodError } from 'zod';
import { isChatsafeError, WrongKeyError } from '../core/errors.js';
import type { AppError, AppErrorKind } from './contract.js';

export function appError(kind: AppErrorKind, message: string, hint: string | null = null): AppError {
  return { kind, message, hint, suggestion: null, attemptsLeft: null };
}

export function fromZodError(what: string, e: ZodError): AppError {
  const issue = e.issues[0];
  const where = issue && issue.path.length > 0 ? ` (at ${issue.path.map(String).join('.').slice(0, 80)})` : '';
  return appError('usage', `The ${what} is malformed${where}: ${(issue?.message ?? 'invalid').slice(0, 200)}.`, 'This is a bug in the app window, not in your backup; restart the app and try again.');
}

/** Fields of requests that carry what people typed into a form, by their label in the window. */
const FORM_FIELDS: Record<string, string> = {
  name: 'Name',
  'target.path': 'Folder',
  'target.endpoint': 'Endpoint',
  'target.region': 'Region',
  'target.bucket': 'Bucket',
  'target.prefix': 'Prefix',
  'target.accessKeyId': 'Access key id',
  'target.url': 'WebDAV address',
  'target.user': 'User',
  secret: 'The secret key or password',
};

/** A form's field failed validation: a typo to correct, not a bug; said with the field's label. */
export function fromFormError(e: ZodError): AppError {
  const issue = e.issues[0];
  const path = issue?.path.map(String).join('.') ?? '';
  const label = FORM_FIELDS[path];
  if (!label) return fromZodError('request', e);
  return appError('usage', `${label}: ${(issue?.message ?? 'invalid').slice(0, 200)}.`, 'Correct it and save again.');
}

export function toAppError(e: unknown): AppError {
  if (e instanceof WrongKeyError) {
    return { kind: 'wrong-key', message: e.message, hint: e.hint ?? null, suggestion: e.suggestion ? { ...e.suggestion } : null, attemptsLeft: e.attemptsLeft ?? null };
  }
  // The core's hint for a cancel speaks of commands; in the window there is a button.
  if (isChatsafeError(e) && e.kind === 'cancelled') return appError('cancelled', 'Cancelled.', 'Nothing half-written was kept; start again when you are ready.');
  if (isChatsafeError(e)) return appError(e.kind, e.message, e.hint ?? null);
  if (isAppError(e)) return e;
  return appError('internal', 'Something went wrong inside Chatsafe.', 'Nothing was changed. Try again; if it happens again, send the diagnostics report (Inspect → Diagnostics) to support.');
}

/** Errors that crossed a worker boundary arrive as plain objects. */
export function isAppError(v: unknown): v is AppError {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return typeof o.kind === 'string' && typeof o.message === 'string' && 'hint' in o && 'suggestion' in o && 'attemptsLeft' in o;
}
