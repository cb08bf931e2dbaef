/**
 * A scripted ChatsafeApi for component tests: the transport is the boundary
 * faked here (the real one is exercised by the end-to-end specs). Each
 * channel answers from a table; jobs stay pending until the test settles them.
 */
import type { ChatsafeApi, Progress, Result } from '../src/api';

type Answer = Result<unknown> | ((request: unknown) => Result<unknown>);

export interface PendingJob {
  channel: string;
  request: unknown;
  jobId: string;
  progress(p: Progress): void;
  settle(r: Result<unknown>): void;
}

export function fakeApi(answers: Record<string, Answer>) {
  const calls: Array<{ channel: string; request: unknown }> = [];
  const jobs: PendingJob[] = [];
  const cancelled: string[] = [];
  let n = 0;
  const openFileListeners = new Set<() => void>();
  const answer = (channel: string, request: unknown): Result<unknown> => {
    const a = answers[channel];
    if (!a) return { ok: false, error: { kind: 'internal', message: `no answer for ${channel}`, hint: null, suggestion: null, attemptsLeft: null } };
    return typeof a === 'function' ? a(request) : a;
  };
  const api: ChatsafeApi = {
    front: 'web',
    call: async (channel, request) => {
      calls.push({ channel, request });
      return answer(channel, request) as never;
    },
    job(channel, request, onProgress) {
      const jobId = `job-${++n}-aaaaaaaa`;
      calls.push({ channel, request });
      if (answers[channel]) return { jobId, done: Promise.resolve(answer(channel, request)) as never };
      let settle!: (r: Result<unknown>) => void;
      const done = new Promise<Result<unknown>>((r) => (settle = r));
      jobs.push({ channel, request, jobId, progress: onProgress, settle });
      return { jobId, done: done as never };
    },
    cancel: async (jobId) => {
      cancelled.push(jobId);
    },
    pathForFile: () => null,
    onOpenFile(listener) {
      openFileListeners.add(listener);
      return () => openFileListeners.delete(listener);
    },
  };
  /** What main does when the OS hands over another bundle: signal the window, with no data. */
  const signalOpenFile = () => openFileListeners.forEach((l) => l());
  return { api, calls, jobs, cancelled, signalOpenFile };
}

export const KEY = '0123 4567 89AB CDEF 0123 4567 89AB CDEF 0123 4567 89AB CDEF 0123 4567 89AB CDEF';

export const DETECTION = {
  kind: 'whatsapp-export-text',
  label: 'WhatsApp "Export chat" text',
  summary: '1 chat, 120 messages, 1 media file, 6 KB',
  path: '/tmp/sample/Garden Club',
  counts: { chats: 1, messages: 120, mediaFiles: 1 },
  totalFiles: 2,
  totalBytes: 6000,
  problems: [],
};
