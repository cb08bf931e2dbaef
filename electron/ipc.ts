/**
 * Main's IPC entry points, kept apart from main.ts so they are tested with
 * Electron's event objects faked: every request's sender frame must be the
 * app's own top-level page (app://chatsafe), then the router validates the
 * payload against the contract. Answers are Results, never thrown errors.
 */
import type { IpcMainInvokeEvent } from 'electron';
import { IPC, type Progress, type Result } from '../src/app/contract.js';
import { appError } from '../src/app/errors.js';
import type { Router } from '../src/app/router.js';
import { isTrustedSender } from './security.js';

/** The parts of an invoke event the handlers use (what the tests fake). */
export type InvokeEvent = Pick<IpcMainInvokeEvent, 'senderFrame'> & { sender: Pick<IpcMainInvokeEvent['sender'], 'send' | 'isDestroyed'> };

const refused = (): Result<never> => ({ ok: false, error: appError('forbidden', 'This request did not come from the Chatsafe window.', null) });

export function ipcHandlers(router: Router) {
  return {
    async call(event: InvokeEvent, channel: unknown, request: unknown): Promise<Result<unknown>> {
      if (!isTrustedSender(event.senderFrame)) return refused();
      return router.handle(channel, request);
    },
    async job(event: InvokeEvent, channel: unknown, envelope: unknown): Promise<Result<unknown>> {
      if (!isTrustedSender(event.senderFrame)) return refused();
      return router.handle(channel, envelope, (jobId: string, progress: Progress) => {
        if (!event.sender.isDestroyed()) event.sender.send(IPC.progress, jobId, progress);
      });
    },
  };
}
