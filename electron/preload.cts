/**
 * The preload: runs sandboxed, with context isolation, and exposes exactly
 * one object, `window.chatsafe` (PreloadBridge in the IPC contract). The
 * page never sees ipcRenderer; channel names and payloads are checked again
 * in main, which trusts nothing that comes from here.
 */
import { contextBridge, ipcRenderer, webUtils, type IpcRendererEvent } from 'electron';
import type { PreloadBridge, Progress } from '../src/app/contract.js' with { 'resolution-mode': 'import' };

// Kept in step with IPC in src/app/contract.ts (a sandboxed preload cannot load that module).
const IPC = { call: 'chatsafe:call', job: 'chatsafe:job', progress: 'chatsafe:progress', openedFile: 'chatsafe:opened-file' } as const;

const bridge: PreloadBridge = {
  call: (channel, request) => ipcRenderer.invoke(IPC.call, String(channel), request),
  job: (channel, jobId, request) => ipcRenderer.invoke(IPC.job, String(channel), { jobId: String(jobId), request }),
  onProgress(listener) {
    const handler = (_e: IpcRendererEvent, jobId: string, progress: Progress) => listener(jobId, progress);
    ipcRenderer.on(IPC.progress, handler);
    return () => {
      ipcRenderer.removeListener(IPC.progress, handler);
    };
  },
  pathForFile: (file) => webUtils.getPathForFile(file),
  onOpenFile(listener) {
    // The event carries nothing from main; the listener gets no arguments and asks app.openedFile.
    const handler = () => listener();
    ipcRenderer.on(IPC.openedFile, handler);
    return () => {
      ipcRenderer.removeListener(IPC.openedFile, handler);
    };
  },
};

contextBridge.exposeInMainWorld('chatsafe', bridge);
