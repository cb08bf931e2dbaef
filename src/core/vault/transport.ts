/**
 * JSON over HTTP(S) to the key vault, with a private CA when asked, a timeout,
 * cancellation, and every answer checked against its schema. Network failures
 * become ChatsafeError 'io' with a hint; nothing secret is put in messages.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { ChatsafeError, CancelledError } from '../errors.js';
import { ErrorResponse, type ErrorBody } from './protocol.js';

const TIMEOUT_MS = 30_000;
const MAX_RESPONSE_BYTES = 64 * 1024;

export interface TransportOptions {
  signal?: AbortSignal;
  caCertPath?: string;
}

export type VaultAnswer<T> = { ok: true; body: T } | { ok: false; status: number; body: ErrorBody };

export function parseVaultUrl(vaultUrl: string): URL {
  let url: URL;
  try {
    url = new URL(vaultUrl);
  } catch {
    throw new ChatsafeError('usage', `"${vaultUrl}" is not a valid vault address.`, 'Give the vault as https://HOST[:PORT] (or http://127.0.0.1:PORT for a local test vault).');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ChatsafeError('usage', `The vault address must start with https:// (got ${url.protocol}).`, 'Give the vault as https://HOST[:PORT].');
  }
  if (url.username || url.password) throw new ChatsafeError('usage', 'The vault address must not contain a user name or password.', 'Give the vault as https://HOST[:PORT].');
  return url;
}

function unreachable(url: URL, detail: string, cause?: unknown): ChatsafeError {
  return new ChatsafeError('io', `Cannot reach the key vault at ${url.origin}: ${detail}.`, 'Check the network connection and the vault address, then try again. Nothing was changed in the vault.', { cause });
}

export async function postJson<T>(vaultUrl: string, path: string, body: unknown, schema: z.ZodType<T>, opts: TransportOptions = {}): Promise<VaultAnswer<T>> {
  if (opts.signal?.aborted) throw new CancelledError();
  const base = parseVaultUrl(vaultUrl);
  const url = new URL(path, base.href.endsWith('/') ? base.href : `${base.href}/`);
  const payload = Buffer.from(JSON.stringify(body));
  let ca: Buffer | undefined;
  if (opts.caCertPath) {
    try {
      ca = readFileSync(opts.caCertPath);
    } catch (e) {
      throw new ChatsafeError('io', `Cannot read the CA certificate ${opts.caCertPath}.`, 'Check the path given for the vault CA certificate.', { cause: e });
    }
  }
  const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
    const options = {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': String(payload.length), accept: 'application/json' },
      timeout: TIMEOUT_MS,
      signal: opts.signal,
      ...(ca ? { ca } : {}),
    };
    const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, options, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_RESPONSE_BYTES) {
          req.destroy();
          reject(unreachable(url, 'the answer is too large to be from a Chatsafe vault'));
          return;
        }
        chunks.push(c);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', (e) => reject(unreachable(url, e.message, e)));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${TIMEOUT_MS / 1000} s`)));
    req.on('error', (e: NodeJS.ErrnoException) => {
      if (opts.signal?.aborted) reject(new CancelledError());
      else reject(unreachable(url, e.code ?? e.message, e));
    });
    req.end(payload);
  });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw unreachable(url, `the server answered HTTP ${status} without JSON; is this a Chatsafe vault`);
  }
  if (status >= 200 && status < 300) {
    const parsed = schema.safeParse(json);
    if (!parsed.success) throw new ChatsafeError('unsupported', `The key vault at ${url.origin} gave an answer this version of Chatsafe does not understand.`, 'Update Chatsafe, or ask the vault operator which version the vault runs.');
    return { ok: true, body: parsed.data };
  }
  const err = ErrorResponse.safeParse(json);
  if (!err.success) throw unreachable(url, `the server answered HTTP ${status}`);
  return { ok: false, status, body: err.data };
}
