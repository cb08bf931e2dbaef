/**
 * The vault protocol spoken by hand, for tests that need what the client
 * never shows (the export key, the exact messages) or need to misbehave.
 */
import * as opaque from '@serenity-kit/opaque';
import { hkdfSync } from 'node:crypto';
import { sealRootKey } from '../../src/core/vault/key-envelope.js';
import { ROUTES } from '../../src/core/vault/protocol.js';

export const WEAK_KSF = { 'argon2id-custom': { iterations: 1, memory: 1024, parallelism: 1 } } as const;

export interface Answer {
  status: number;
  json: Record<string, unknown>;
}

export async function post(url: string, path: string, body: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }): Promise<Answer> {
  const res = await fetch(url + path, { method: 'POST', headers, body: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body) });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = { raw: text };
  }
  return { status: res.status, json };
}

export interface RawAccount {
  accountId: string;
  exportKey: string;
  sealedKey: string;
  registrationRecord: string;
}

export async function rawRegister(url: string, password: string, rootKey: Buffer): Promise<RawAccount> {
  await opaque.ready;
  const { clientRegistrationState, registrationRequest } = opaque.client.startRegistration({ password });
  const s = await post(url, ROUTES.registerStart, { registrationRequest, keyStretching: 'test-only-weak' });
  if (s.status !== 200) throw new Error(`register/start ${s.status} ${JSON.stringify(s.json)}`);
  const accountId = s.json.accountId as string;
  const { registrationRecord, exportKey } = opaque.client.finishRegistration({ clientRegistrationState, registrationResponse: s.json.registrationResponse as string, password, keyStretching: WEAK_KSF });
  const sealedKey = sealRootKey(exportKey, accountId, rootKey);
  const f = await post(url, ROUTES.registerFinish, { ticket: s.json.ticket, accountId, registrationRecord, sealedKey });
  if (f.status !== 200) throw new Error(`register/finish ${f.status} ${JSON.stringify(f.json)}`);
  return { accountId, exportKey, sealedKey, registrationRecord };
}

/** Login start by hand; returns what the second message needs. */
export async function rawLoginStart(url: string, accountId: string, password: string) {
  await opaque.ready;
  const { clientLoginState, startLoginRequest } = opaque.client.startLogin({ password });
  const start = await post(url, ROUTES.loginStart, { accountId, startLoginRequest });
  return { start, clientLoginState, startLoginRequest };
}

/** The second login message by hand, for a start that got 200. */
export async function rawLoginFinish(url: string, accountId: string, password: string, started: Awaited<ReturnType<typeof rawLoginStart>>) {
  const { start, clientLoginState } = started;
  const fin = opaque.client.finishLogin({ clientLoginState, loginResponse: start.json.loginResponse as string, password, keyStretching: WEAK_KSF });
  if (!fin) return { start, wrong: true as const };
  const finishBody = { attemptId: start.json.attemptId, accountId, finishLoginRequest: fin.finishLoginRequest };
  const finish = await post(url, ROUTES.loginFinish, finishBody);
  return { start, finish, finishBody, exportKey: fin.exportKey, sessionKey: fin.sessionKey };
}

/** A full login by hand: returns the finish request (to replay it) and the answer. */
export async function rawLogin(url: string, accountId: string, password: string) {
  const started = await rawLoginStart(url, accountId, password);
  if (started.start.status !== 200) return { start: started.start, finish: undefined, finishBody: undefined, exportKey: undefined, sessionKey: undefined };
  return rawLoginFinish(url, accountId, password, started);
}

/** password/start by hand with a grant; `finish` sends password/finish with K sealed under the new export key. */
export async function rawPasswordStart(url: string, accountId: string, grant: string, password: string) {
  await opaque.ready;
  const { clientRegistrationState, registrationRequest } = opaque.client.startRegistration({ password });
  const start = await post(url, ROUTES.passwordStart, { accountId, grant, registrationRequest, keyStretching: 'test-only-weak' });
  const finish = async (rootKey: Buffer): Promise<Answer> => {
    const { registrationRecord, exportKey } = opaque.client.finishRegistration({ clientRegistrationState, registrationResponse: start.json.registrationResponse as string, password, keyStretching: WEAK_KSF });
    return post(url, ROUTES.passwordFinish, { ticket: start.json.ticket, accountId, registrationRecord, sealedKey: sealRootKey(exportKey, accountId, rootKey) });
  };
  return { start, finish };
}

/** The AES key the client derives from the export key to open K (as key-envelope.ts does). */
export function envelopeKey(exportKey: string): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(exportKey, 'base64url'), Buffer.alloc(0), Buffer.from('chatsafe/vault/root-key-envelope/v1'), 32));
}

/** The byte patterns a secret could be stored or logged as. */
export function encodings(secret: Buffer): Buffer[] {
  return [secret, Buffer.from(secret.toString('hex')), Buffer.from(secret.toString('hex').toUpperCase()), Buffer.from(secret.toString('base64')), Buffer.from(secret.toString('base64url'))];
}
