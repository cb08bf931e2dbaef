/**
 * The local web mode's server (`chatsafe ui`): the renderer and the IPC
 * contract over HTTP, on 127.0.0.1 only.
 *
 * Who may talk to it:
 * - a random per-launch token: the launch URL carries it once (`/?token=…`);
 *   the server answers with an HttpOnly SameSite=Strict cookie for the page's
 *   files and writes the token into the page, which sends it back in the
 *   `X-Chatsafe-Token` header of every API request. API requests without that
 *   header are refused, so a cookie alone (a cross-site form) gets nowhere;
 * - the Host header must name this server (defeats DNS rebinding);
 * - API requests must carry an Origin header equal to this server's origin,
 *   and a JSON content type (no simple cross-site requests);
 * - tokens are compared in constant time.
 *
 * Routes are generated from the contract: `POST /api/call/NAME` answers a
 * `Result` as JSON; `POST /api/job/NAME` answers a server-sent-event stream of
 * `progress` events and one `result` event. A job whose stream is closed by
 * the browser is cancelled.
 */
import { rendererCsp } from '../csp.js';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHANNELS, isChannelName, type AppError, type AppErrorKind, type Result } from '../contract.js';
import { appError } from '../errors.js';
import { Router } from '../router.js';

export const TOKEN_HEADER = 'x-chatsafe-token';
const COOKIE = 'chatsafe_token';
const MAX_BODY_BYTES = 1024 * 1024;

export const DEFAULT_RENDERER_DIR = fileURLToPath(new URL('../../../../renderer/dist/', import.meta.url));

export const CSP = rendererCsp("'self'");

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
};

const STATUS: Record<AppErrorKind, number> = {
  usage: 400,
  'wrong-key': 403,
  forbidden: 403,
  integrity: 422,
  'not-found': 404,
  conflict: 409,
  cancelled: 409,
  unsupported: 501,
  io: 502,
  'locked-out': 410,
  internal: 500,
};

export interface WebServerOptions {
  readonly router: Router;
  readonly port?: number;
  readonly rendererDir?: string;
  /** For tests: a fixed token instead of a random one. */
  readonly token?: string;
}

export interface WebServer {
  readonly server: Server;
  readonly port: number;
  readonly origin: string;
  readonly token: string;
  /** The URL to open: carries the token once. */
  readonly launchUrl: string;
  close(): Promise<void>;
}

export async function startWebServer(opts: WebServerOptions): Promise<WebServer> {
  const token = opts.token ?? randomBytes(32).toString('base64url');
  const tokenBytes = Buffer.from(token);
  const rendererDir = resolve(opts.rendererDir ?? DEFAULT_RENDERER_DIR);
  let port = 0;
  const hosts = () => new Set([`127.0.0.1:${port}`, `localhost:${port}`]);
  const origins = () => new Set([`http://127.0.0.1:${port}`, `http://localhost:${port}`]);
  const sameToken = (given: string | undefined) => {
    if (typeof given !== 'string') return false;
    const b = Buffer.from(given);
    return b.length === tokenBytes.length && timingSafeEqual(b, tokenBytes);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) sendJson(res, 500, { ok: false, error: appError('internal', 'Something went wrong inside Chatsafe.', 'Try again.') });
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    baseHeaders(res);
    if (!hosts().has(req.headers.host ?? '')) return refuse(res, 421, 'This address is not the Chatsafe window.', 'Open the address `chatsafe ui` printed.');
    const url = new URL(req.url ?? '/', `http://${req.headers.host}`);
    if (url.pathname.startsWith('/api/')) return api(req, res, url);
    if (req.method !== 'GET' && req.method !== 'HEAD') return refuse(res, 405, 'Only GET is served here.', null);
    const queryToken = url.searchParams.get('token') ?? undefined;
    if (queryToken !== undefined) {
      if (!sameToken(queryToken)) return refuse(res, 403, 'That link has an old or wrong token.', 'Use the address printed by the `chatsafe ui` that is running now.');
      res.setHeader('Set-Cookie', `${COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`);
      res.writeHead(303, { Location: '/' });
      return void res.end();
    }
    if (!sameToken(cookieOf(req))) return refuse(res, 403, 'This page needs the link with its token.', 'Open the address `chatsafe ui` printed (it ends with ?token=…).');
    return serveStatic(req, res, url.pathname);
  }

  async function api(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    if (req.method !== 'POST') return refuse(res, 405, 'API requests use POST.', null);
    if (!sameToken(header(req, TOKEN_HEADER))) return refuse(res, 403, 'The request has no valid token.', 'Reload the page from the address `chatsafe ui` printed.');
    if (!origins().has(header(req, 'origin') ?? '')) return refuse(res, 403, 'Requests from other web pages are refused.', null);
    if (!/^application\/json(;|$)/i.test(header(req, 'content-type') ?? '')) return refuse(res, 415, 'The request must be JSON.', null);
    const m = /^\/api\/(call|job)\/([A-Za-z.]{1,40})$/.exec(url.pathname);
    const name = m?.[2];
    if (!m || !isChannelName(name) || CHANNELS[name].kind !== m[1]) return refuse(res, 404, 'No such request.', 'The page and the server are out of step; reload the page.');
    let payload: unknown;
    try {
      payload = JSON.parse(await readBody(req));
    } catch (e) {
      return sendJson(res, 400, { ok: false, error: isTooLarge(e) ? e : appError('usage', 'The request body is not valid JSON.', 'Reload the page and try again.') });
    }
    if (m[1] === 'call') {
      const result = await opts.router.handle(name, payload);
      return sendJson(res, result.ok ? 200 : STATUS[result.error.kind], result);
    }
    const invalid = opts.router.validate(name, payload);
    if (invalid) return sendJson(res, 400, { ok: false, error: invalid });
    return streamJob(req, res, name, payload);
  }

  async function streamJob(req: IncomingMessage, res: ServerResponse, name: string, payload: unknown): Promise<void> {
    res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', Connection: 'keep-alive' });
    res.flushHeaders();
    const jobId = (payload as { jobId?: unknown })?.jobId;
    let finished = false;
    // A browser that goes away (tab closed, fetch aborted) takes its job with it.
    res.on('close', () => {
      if (!finished && typeof jobId === 'string') opts.router.jobs.cancel(jobId);
    });
    const result = await opts.router.handle(name, payload, (id, progress) => {
      res.write(`event: progress\ndata: ${JSON.stringify({ jobId: id, progress })}\n\n`);
    });
    finished = true;
    res.end(`event: result\ndata: ${JSON.stringify(result)}\n\n`);
  }

  async function serveStatic(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> {
    let rel: string;
    try {
      rel = decodeURIComponent(pathname);
    } catch {
      return refuse(res, 400, 'Malformed address.', null);
    }
    if (rel.includes('\0') || rel.split('/').includes('..')) return refuse(res, 400, 'Malformed address.', null);
    let file = resolve(rendererDir, `.${rel}`);
    if (file !== rendererDir && !file.startsWith(rendererDir + sep)) return refuse(res, 400, 'Malformed address.', null);
    let st = await fs.stat(file).catch(() => null);
    // The renderer is a single page: any address that is not a file is the page itself.
    if (!st?.isFile()) {
      if (extname(rel) !== '') return refuse(res, 404, 'Not found.', null);
      file = join(rendererDir, 'index.html');
      st = await fs.stat(file).catch(() => null);
      if (!st?.isFile()) return refuse(res, 500, 'The app window is not built.', 'Run `npm run build` first.');
    }
    const type = MIME[extname(file)] ?? 'application/octet-stream';
    if (file.endsWith('.html')) {
      const html = (await fs.readFile(file, 'utf8')).replace('<head>', `<head><meta name="chatsafe-token" content="${token}">`);
      res.writeHead(200, { 'Content-Type': type });
      return void res.end(req.method === 'HEAD' ? undefined : html);
    }
    res.writeHead(200, { 'Content-Type': type, 'Content-Length': st.size });
    if (req.method === 'HEAD') return void res.end();
    createReadStream(file).pipe(res);
  }

  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolveListen());
  });
  const address = server.address();
  port = typeof address === 'object' && address ? address.port : 0;
  const origin = `http://127.0.0.1:${port}`;
  return {
    server,
    port,
    origin,
    token,
    launchUrl: `${origin}/?token=${token}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function cookieOf(req: IncomingMessage): string | undefined {
  for (const part of (header(req, 'cookie') ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === COOKIE) return v.join('=');
  }
  return undefined;
}

function baseHeaders(res: ServerResponse): void {
  res.setHeader('Content-Security-Policy', CSP);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
  res.setHeader('X-Frame-Options', 'DENY');
}

function sendJson(res: ServerResponse, status: number, body: Result<unknown>): void {
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}

function refuse(res: ServerResponse, status: number, message: string, hint: string | null): void {
  sendJson(res, status, { ok: false, error: appError(status === 403 || status === 421 ? 'forbidden' : status === 404 ? 'not-found' : 'usage', message, hint) });
}

function isTooLarge(e: unknown): e is AppError {
  return typeof e === 'object' && e !== null && (e as AppError).kind === 'usage' && (e as AppError).message.startsWith('The request is larger');
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolveBody, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      // Past the limit the rest is drained unread, so the client still gets its answer;
      // far past it the connection is cut.
      if (size > 16 * MAX_BODY_BYTES) req.destroy();
      else if (size <= MAX_BODY_BYTES) parts.push(chunk);
    });
    req.on('end', () => (size > MAX_BODY_BYTES ? reject(appError('usage', 'The request is larger than 1 MiB.', 'Send less at once.')) : resolveBody(Buffer.concat(parts).toString('utf8'))));
    req.on('error', reject);
  });
}
