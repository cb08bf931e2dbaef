/**
 * The key vault's HTTP protocol: every route's request and response schema.
 * Client and server validate against these same schemas, so they cannot drift.
 * All OPAQUE messages travel as the base64url strings @serenity-kit/opaque uses.
 */
import { z } from 'zod';

export const PROTOCOL_VERSION = 1;

/** Largest request body the vault accepts; every real message is far smaller. */
export const MAX_REQUEST_BYTES = 8 * 1024;

const b64url = (min: number, max: number) =>
  z.string().min(min).max(max).regex(/^[A-Za-z0-9_-]+={0,2}$/, 'must be base64url');

/** Account ids and one-time tokens: 32 random bytes, base64url without padding. */
export const TokenSchema = z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'must be a 43-character token');
export const AccountIdSchema = z.string().regex(/^[0-9a-f]{32}$/, 'must be 32 hex digits');

/**
 * argon2id stretching applied by the client inside OPAQUE. The vault stores the
 * profile chosen at registration and returns it at login, so clients agree with
 * themselves. `test-only-weak` exists so the test suite runs in seconds; clients
 * refuse it unless explicitly told they are under test.
 */
export const KeyStretchingSchema = z.enum(['memory-constrained', 'rfc-recommended', 'test-only-weak']);
export type KeyStretching = z.infer<typeof KeyStretchingSchema>;

export const RegisterStartRequest = z.strictObject({
  registrationRequest: b64url(20, 200),
  keyStretching: KeyStretchingSchema,
});
export const RegisterStartResponse = z.object({
  accountId: AccountIdSchema,
  ticket: TokenSchema,
  registrationResponse: b64url(20, 400),
});

/** Finishes a new registration or a password change (the ticket says which). */
export const RegisterFinishRequest = z.strictObject({
  ticket: TokenSchema,
  accountId: AccountIdSchema,
  registrationRecord: b64url(100, 600),
  sealedKey: b64url(40, 200),
});
export const RegisterFinishResponse = z.object({ accountId: AccountIdSchema });

export const LoginStartRequest = z.strictObject({
  accountId: AccountIdSchema,
  startLoginRequest: b64url(20, 400),
});
export const LoginStartResponse = z.object({
  attemptId: TokenSchema,
  loginResponse: b64url(20, 1000),
  keyStretching: KeyStretchingSchema,
  /** Guesses left if this one turns out wrong. */
  attemptsLeft: z.number().int().min(0),
});

export const LoginFinishRequest = z.strictObject({
  attemptId: TokenSchema,
  accountId: AccountIdSchema,
  finishLoginRequest: b64url(20, 400),
});
export const LoginFinishResponse = z.object({
  sealedKey: b64url(40, 200),
  /** One-time permission for a password change or a deletion, valid briefly. */
  grant: TokenSchema,
});

/** The client found the password wrong locally and gives the attempt up. */
export const LoginAbandonRequest = z.strictObject({ attemptId: TokenSchema, accountId: AccountIdSchema });
export const LoginAbandonResponse = z.object({
  attemptsLeft: z.number().int().min(0),
  /** True when that was the last guess and the record is now gone. */
  destroyed: z.boolean(),
});

export const PasswordStartRequest = z.strictObject({
  accountId: AccountIdSchema,
  grant: TokenSchema,
  registrationRequest: b64url(20, 200),
  keyStretching: KeyStretchingSchema,
});
export const PasswordStartResponse = RegisterStartResponse;

export const DeleteAccountRequest = z.strictObject({ accountId: AccountIdSchema, grant: TokenSchema });
export const DeleteAccountResponse = z.object({ deleted: z.literal(true) });

/** Every non-2xx answer. */
export const ErrorCodeSchema = z.enum([
  'bad-request',
  'not-found',
  'wrong-password',
  'locked-out',
  'busy',
  'rate-limited',
  'too-large',
  'invalid-attempt',
  'conflict',
  'internal',
]);
export type ErrorCode = z.infer<typeof ErrorCodeSchema>;
export const ErrorResponse = z.object({
  error: ErrorCodeSchema,
  message: z.string(),
  attemptsLeft: z.number().int().min(0).optional(),
});
export type ErrorBody = z.infer<typeof ErrorResponse>;

export const ROUTES = {
  registerStart: '/v1/register/start',
  registerFinish: '/v1/register/finish',
  loginStart: '/v1/login/start',
  loginFinish: '/v1/login/finish',
  loginAbandon: '/v1/login/abandon',
  passwordStart: '/v1/password/start',
  passwordFinish: '/v1/password/finish',
  deleteAccount: '/v1/account/delete',
  health: '/healthz',
} as const;
