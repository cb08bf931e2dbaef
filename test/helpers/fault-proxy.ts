/**
 * A fault-injecting HTTP proxy to put in front of a real storage server.
 * Requests pass through unchanged (the Host header too, so S3 signatures
 * still verify) unless a programmed fault matches:
 *
 *   const proxy = await FaultProxy.start('http://127.0.0.1:8000');
 *   proxy.inject({ kind: 'status', status: 503 }, { times: 3, match: (r) => r.method === 'PUT' });
 *   ... point the client at proxy.url ...
 *   await proxy.close();
 *
 * Faults are consumed in the order they were injected, each by the first
 * request it matches, `times` times over.
 */
import { createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type Fault =
  /** Close the connection before the request reaches the server. */
  | { readonly kind: 'reset' }
  /** Forward; the server completes the request; then close the connection without an answer (the answer is "lost"). */
  | { readonly kind: 'reset-after-forward' }
  /** Answer with this status without forwarding (500, 503, ...). */
  | { readonly kind: 'status'; readonly status: number; readonly body?: string; readonly contentType?: string }
  /** Wait before forwarding: a slow server. */
  | { readonly kind: 'delay'; readonly ms: number }
  /** Forward, send the headers and half of the answer's body, then close the connection. */
  | { readonly kind: 'drop-mid-body' };

export interface RequestSummary {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
}

interface Rule {
  readonly fault: Fault;
  readonly match: (r: RequestSummary) => boolean;
  left: number;
}

export interface LogEntry {
  readonly method: string;
  readonly url: string;
  readonly fault: Fault['kind'] | null;
}

export class FaultProxy {
  readonly log: LogEntry[] = [];
  private rules: Rule[] = [];
  private readonly sockets = new Set<Socket>();

  private constructor(private readonly server: Server, readonly url: string, private readonly upstream: URL) {}

  static async start(upstream: string): Promise<FaultProxy> {
    const target = new URL(upstream);
    const holder: { proxy?: FaultProxy } = {};
    const server = createServer((req, res) => {
      void holder.proxy!.handle(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const proxy = new FaultProxy(server, `http://127.0.0.1:${port}`, target);
    holder.proxy = proxy;
    server.on('connection', (s) => {
      proxy.sockets.add(s);
      s.on('close', () => proxy.sockets.delete(s));
    });
    return proxy;
  }

  inject(fault: Fault, opts: { times?: number; match?: (r: RequestSummary) => boolean } = {}): void {
    this.rules.push({ fault, match: opts.match ?? (() => true), left: opts.times ?? 1 });
  }

  /** Faults injected but not yet triggered. */
  get pending(): number {
    return this.rules.reduce((n, r) => n + r.left, 0);
  }

  clear(): void {
    this.rules = [];
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private take(summary: RequestSummary): Fault | null {
    const rule = this.rules.find((r) => r.left > 0 && r.match(summary));
    if (!rule) return null;
    rule.left--;
    this.rules = this.rules.filter((r) => r.left > 0);
    return rule.fault;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const summary: RequestSummary = { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers };
    const fault = this.take(summary);
    this.log.push({ method: summary.method, url: summary.url, fault: fault?.kind ?? null });
    try {
      switch (fault?.kind) {
        case 'reset':
          req.socket.destroy();
          return;
        case 'status': {
          await drain(req);
          const body = fault.body ?? '';
          res.writeHead(fault.status, { 'Content-Type': fault.contentType ?? 'text/plain', 'Content-Length': Buffer.byteLength(body), Connection: 'close' });
          res.end(body);
          return;
        }
        case 'delay':
          await new Promise((r) => setTimeout(r, fault.ms));
          break;
        default:
          break;
      }
      const answer = await this.forward(req);
      if (fault?.kind === 'reset-after-forward') {
        req.socket.destroy();
        return;
      }
      if (fault?.kind === 'drop-mid-body' && answer.body.length > 1) {
        res.writeHead(answer.status, { ...answer.headers, 'content-length': String(answer.body.length) });
        res.write(answer.body.subarray(0, answer.body.length >> 1), () => req.socket.destroy());
        return;
      }
      res.writeHead(answer.status, answer.headers);
      res.end(answer.body);
    } catch {
      // The server is down (killed in a test) or the client went away: as a real network would, reset.
      req.socket.destroy();
    }
  }

  /** Sends the request upstream and reads the whole answer. */
  private forward(req: IncomingMessage): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> {
    return new Promise((resolve, reject) => {
      const up = httpRequest(
        { host: this.upstream.hostname, port: this.upstream.port, method: req.method, path: req.url, headers: req.headers },
        (ans) => {
          const chunks: Buffer[] = [];
          ans.on('data', (c: Buffer) => chunks.push(c));
          ans.on('end', () => {
            const headers = { ...ans.headers };
            delete headers['transfer-encoding'];
            const body = Buffer.concat(chunks);
            if (req.method !== 'HEAD') headers['content-length'] = String(body.length);
            resolve({ status: ans.statusCode ?? 502, headers, body });
          });
          ans.on('error', reject);
        },
      );
      up.on('error', reject);
      req.pipe(up);
      req.on('error', (e) => up.destroy(e));
    });
  }
}

function drain(req: IncomingMessage): Promise<void> {
  return new Promise((resolve) => {
    req.on('end', resolve);
    req.on('error', () => resolve());
    req.resume();
  });
}
