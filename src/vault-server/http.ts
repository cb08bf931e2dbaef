/**
 * The vault's HTTP front: routing, request size limits, JSON parsing, schema
 * validation on every route, rate limits, and the mapping of outcomes to
 * statuses. Nothing a client sends can crash the process: every failure ends
 * as a JSON error answer, and only a failure of the vault itself is a 5xx.
 */
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { z } from 'zod';
import {
  DeleteAccountRequest,
  LoginAbandonRequest,
  LoginFinishRequest,
  LoginStartRequest,
  MAX_REQUEST_BYTES,
  PasswordStartRequest,
  RegisterFinishRequest,
  RegisterStartRequest,
  ROUTES,
  type ErrorBody,
} from '../core/vault/protocol.js';
import type { Logger } from './logger.js';
import { RateLimiter, rateLimitKey } from './rate-limit.js';
import { VaultHttpError, type VaultService } from './service.js';

export interface HttpOptions {
  tls?: { cert: Buffer; key: Buffer };
  /** Requests per minute per client IP, over all routes (0: no limit). */
  ratePerIp: number;
  /** Login and registration requests per minute per account (0: no limit). */
  ratePerAccount: number;
}

interface Route<S extends z.ZodType> {
  schema: S;
  handle(body: z.infer<S>, ip: string): Promise<unknown>;
}

function route<S extends z.ZodType>(schema: S, handle: (body: z.infer<S>, ip: string) => Promise<unknown>): Route<S> {
  return { schema, handle };
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(payload)),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    ...headers,
  });
  res.end(payload);
}

function errorBody(e: VaultHttpError): ErrorBody {
  return { error: e.code, message: e.message, ...(e.attemptsLeft !== undefined ? { attemptsLeft: e.attemptsLeft } : {}) };
}

/** Reads the body up to the limit; larger bodies are refused without being read whole. */
function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? '0');
    if (declared > MAX_REQUEST_BYTES) {
      reject(new VaultHttpError(413, 'too-large', `Requests are limited to ${MAX_REQUEST_BYTES} bytes.`));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_REQUEST_BYTES) {
        reject(new VaultHttpError(413, 'too-large', `Requests are limited to ${MAX_REQUEST_BYTES} bytes.`));
        req.pause();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function clientIp(req: IncomingMessage): string {
  return req.socket.remoteAddress ?? 'unknown';
}

export function createVaultHttpServer(service: VaultService, log: Logger, opts: HttpOptions): Server {
  const ipLimit = new RateLimiter(opts.ratePerIp);
  const accountLimit = new RateLimiter(opts.ratePerAccount);
  const routes: Record<string, Route<z.ZodType>> = {
    [ROUTES.registerStart]: route(RegisterStartRequest, (b, ip) => service.registerStart(b, ip)),
    [ROUTES.registerFinish]: route(RegisterFinishRequest, (b, ip) => service.registerFinish(b, ip, 'new')),
    [ROUTES.loginStart]: route(LoginStartRequest, (b, ip) => service.loginStart(b, ip)),
    [ROUTES.loginFinish]: route(LoginFinishRequest, (b, ip) => service.loginFinish(b, ip)),
    [ROUTES.loginAbandon]: route(LoginAbandonRequest, (b, ip) => service.loginAbandon(b, ip)),
    [ROUTES.passwordStart]: route(PasswordStartRequest, (b, ip) => service.passwordStart(b, ip)),
    [ROUTES.passwordFinish]: route(RegisterFinishRequest, (b, ip) => service.registerFinish(b, ip, 'change')),
    [ROUTES.deleteAccount]: route(DeleteAccountRequest, (b, ip) => service.deleteAccount(b, ip)),
  };

  async function dispatch(req: IncomingMessage, ip: string): Promise<{ status: number; body: unknown; account?: string }> {
    const path = (req.url ?? '').split('?')[0]!;
    // Not rate-limited: a load balancer often polls from the same address as the traffic it forwards, and a
    // busy node must not look dead to it. The check itself is shared for a few seconds (service.health).
    if (path === ROUTES.health) {
      if (req.method !== 'GET' && req.method !== 'HEAD') throw new VaultHttpError(405, 'bad-request', 'Use GET.');
      return { status: 200, body: await service.health() };
    }
    const r = routes[path];
    if (!r) throw new VaultHttpError(404, 'not-found', 'No such route.');
    if (req.method !== 'POST') throw new VaultHttpError(405, 'bad-request', 'Use POST.');
    const wait = ipLimit.take(rateLimitKey(ip), Date.now());
    if (wait > 0) throw new VaultHttpError(429, 'rate-limited', 'Too many requests from this address.', undefined, wait);
    if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) throw new VaultHttpError(415, 'bad-request', 'Send application/json.');
    const raw = await readBody(req);
    let json: unknown;
    try {
      json = JSON.parse(raw.toString('utf8'));
    } catch {
      throw new VaultHttpError(400, 'bad-request', 'The body is not valid JSON.');
    }
    const parsed = r.schema.safeParse(json);
    if (!parsed.success) {
      // Name the fields, never echo their values.
      const fields = [...new Set(parsed.error.issues.map((i) => i.path.join('.') || '(body)'))].slice(0, 5).join(', ');
      throw new VaultHttpError(400, 'bad-request', `Invalid request: ${fields}.`);
    }
    const account = (parsed.data as { accountId?: string }).accountId;
    if (account !== undefined) {
      const w = accountLimit.take(account, Date.now());
      if (w > 0) throw new VaultHttpError(429, 'rate-limited', 'Too many requests for this account.', undefined, w);
    }
    return { status: 200, body: await r.handle(parsed.data, ip), account };
  }

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    const started = performance.now();
    const ip = clientIp(req);
    const path = (req.url ?? '').split('?')[0]!.slice(0, 64);
    dispatch(req, ip).then(
      ({ status, body, account }) => {
        send(res, status, body);
        log.info('request', { method: req.method, route: path, status, ms: Math.round(performance.now() - started), ip, account });
      },
      (e: unknown) => {
        if (e instanceof VaultHttpError) {
          send(res, e.status, errorBody(e), e.retryAfter ? { 'retry-after': String(e.retryAfter) } : {});
          log.info('request', { method: req.method, route: path, status: e.status, ms: Math.round(performance.now() - started), ip, error: e.code });
          if (e.status === 413) req.socket.destroySoon?.();
        } else {
          send(res, 500, { error: 'internal', message: 'The vault failed; try again later.' } satisfies ErrorBody);
          // Internal messages come from the store, the HSM or the OPAQUE library and carry no request data.
          log.error('request failed', { method: req.method, route: path, status: 500, ip, error: (e as Error)?.message?.slice(0, 300) ?? String(e) });
        }
      },
    );
  };

  const server = opts.tls ? createHttpsServer({ cert: opts.tls.cert, key: opts.tls.key, minVersion: 'TLSv1.2' }, onRequest) : createHttpServer(onRequest);
  server.headersTimeout = 10_000;
  server.requestTimeout = 15_000;
  server.keepAliveTimeout = 5_000;
  server.maxHeadersCount = 50;
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    else socket.destroy();
  });
  return server;
}
