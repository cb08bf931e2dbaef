/**
 * The renderer's one way to the app: the same typed API whether it runs in
 * Electron (the preload's `window.chatsafe`, over IPC) or in a browser
 * (`chatsafe ui`, over HTTP with the launch token). Types come from the IPC
 * contract, so a request the back would refuse does not compile here.
 */
import type { AppError, CallChannel, JobChannel, PreloadBridge, Progress, RequestOf, ResponseOf, Result } from '../../src/app/contract.js';

export type { AppError, Progress, Result };

export interface RunningJob<T> {
  readonly jobId: string;
  readonly done: Promise<Result<T>>;
}

export interface ChatsafeApi {
  readonly front: 'electron' | 'web';
  call<C extends CallChannel>(channel: C, request: RequestOf<C>): Promise<Result<ResponseOf<C>>>;
  job<C extends JobChannel>(channel: C, request: RequestOf<C>, onProgress: (p: Progress) => void): RunningJob<ResponseOf<C>>;
  cancel(jobId: string): Promise<void>;
  /** Paths of dropped files (desktop app only; a browser does not reveal them). */
  pathForFile(file: File): string | null;
  /**
   * Calls `listener` when the OS hands the desktop app another bundle; the
   * listener then asks `app.openedFile`. Returns the unsubscribe function.
   * The web mode never gets one.
   */
  onOpenFile(listener: () => void): () => void;
}

declare global {
  interface Window {
    chatsafe?: PreloadBridge;
  }
}

function newJobId(): string {
  return crypto.randomUUID();
}

const transportError = (message: string): Result<never> => ({
  ok: false,
  error: { kind: 'io', message, hint: 'Check that Chatsafe is still running (the terminal with `chatsafe ui`), then reload this page.', suggestion: null, attemptsLeft: null },
});

export function electronApi(bridge: PreloadBridge): ChatsafeApi {
  const listeners = new Map<string, (p: Progress) => void>();
  bridge.onProgress((jobId, p) => listeners.get(jobId)?.(p));
  return {
    front: 'electron',
    call: (channel, request) => bridge.call(channel, request) as never,
    job(channel, request, onProgress) {
      const jobId = newJobId();
      listeners.set(jobId, onProgress);
      const done = bridge.job(channel, jobId, request).finally(() => listeners.delete(jobId)) as never;
      return { jobId, done };
    },
    cancel: async (jobId) => {
      await bridge.call('job.cancel', { jobId });
    },
    pathForFile: (file) => bridge.pathForFile(file) || null,
    onOpenFile: (listener) => bridge.onOpenFile(listener),
  };
}

export function webApi(token: string, base = ''): ChatsafeApi {
  const headers = { 'Content-Type': 'application/json', 'X-Chatsafe-Token': token };
  return {
    front: 'web',
    async call(channel, request) {
      try {
        const res = await fetch(`${base}/api/call/${channel}`, { method: 'POST', headers, body: JSON.stringify(request) });
        return (await res.json()) as never;
      } catch {
        return transportError('Chatsafe did not answer.') as never;
      }
    },
    job(channel, request, onProgress) {
      const jobId = newJobId();
      const done = (async () => {
        try {
          const res = await fetch(`${base}/api/job/${channel}`, { method: 'POST', headers, body: JSON.stringify({ jobId, request }) });
          if (!res.body || !(res.headers.get('content-type') ?? '').startsWith('text/event-stream')) return (await res.json()) as never;
          return (await readEvents(res.body, onProgress)) as never;
        } catch {
          return transportError('The connection to Chatsafe was lost during the job.') as never;
        }
      })();
      return { jobId, done };
    },
    cancel: async (jobId) => {
      await fetch(`${base}/api/call/job.cancel`, { method: 'POST', headers, body: JSON.stringify({ jobId }) }).catch(() => undefined);
    },
    pathForFile: () => null,
    onOpenFile: () => () => undefined,
  };
}

/** Reads a server-sent-event stream: `progress` events, then one `result`. */
async function readEvents(body: ReadableStream<Uint8Array>, onProgress: (p: Progress) => void): Promise<Result<unknown>> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  while (true) {
    const { value, done } = await reader.read();
    if (value) buffer += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (!data) continue;
      if (event === 'progress') onProgress((JSON.parse(data) as { progress: Progress }).progress);
      else if (event === 'result') return JSON.parse(data) as Result<unknown>;
    }
    if (done) return transportError('The job ended without an answer.');
  }
}

/** The API for this window: Electron's bridge when present, else the web mode's token in the page. */
export function defaultApi(): ChatsafeApi {
  if (window.chatsafe) return electronApi(window.chatsafe);
  const token = document.querySelector<HTMLMetaElement>('meta[name="chatsafe-token"]')?.content ?? '';
  return webApi(token);
}
