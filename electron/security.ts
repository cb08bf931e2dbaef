/**
 * The desktop app's security rules, as plain functions over the few Electron
 * objects they need (typed from the `electron` package, used only as types),
 * so they are unit-tested without the Electron binary. main.ts wires them.
 */
import { rendererCsp } from '../src/app/csp.js';
import { resolve, sep } from 'node:path';

import { allowExternal } from '../src/app/external-links.js';

export { allowExternal };

/** The renderer's origin: files come from app://chatsafe/, never file://. */
export const APP_SCHEME = 'app';
export const APP_HOST = 'chatsafe';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;

export const CSP = rendererCsp("'none'");

/** Only pages of our own origin may use the API (not a frame, not a page navigated elsewhere). */
export function isTrustedSender(frame: { url: string; parent?: unknown } | null | undefined): boolean {
  if (!frame || frame.parent) return false;
  try {
    const u = new URL(frame.url);
    return u.protocol === `${APP_SCHEME}:` && u.host === APP_HOST;
  } catch {
    return false;
  }
}

/** Navigation away from the app is never allowed; in-app routing does not navigate. */
export function allowNavigation(url: string): boolean {
  try {
    const u = new URL(url);
    return u.protocol === `${APP_SCHEME}:` && u.host === APP_HOST;
  } catch {
    return false;
  }
}

/** Every permission request (camera, notifications, geolocation, …) is denied. */
export function allowPermission(_permission: string): boolean {
  return false;
}

/**
 * Maps an app:// URL to a file under the renderer folder, or null when the
 * URL tries to leave it (.., encoded separators, NUL, another host).
 */
export function resolveAppFile(rootDir: string, url: string): string | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return null;
  }
  if (u.protocol !== `${APP_SCHEME}:` || u.host !== APP_HOST) return null;
  let rel: string;
  try {
    rel = decodeURIComponent(u.pathname);
  } catch {
    return null;
  }
  if (rel.includes('\0') || rel.includes('\\') || rel.split('/').includes('..')) return null;
  const root = resolve(rootDir);
  const file = resolve(root, `.${rel === '/' || rel === '' ? '/index.html' : rel}`);
  return file.startsWith(root + sep) ? file : null;
}

/** What `hardenContents` needs of a webContents (what the tests fake). */
export interface ContentsLike {
  on(event: 'will-navigate' | 'will-redirect', listener: (e: { preventDefault(): void }, url: string) => void): unknown;
  on(event: 'will-attach-webview', listener: (e: { preventDefault(): void }) => void): unknown;
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' }): void;
}

/**
 * Every webContents: no navigation away from the app, no new windows (links
 * on the allowlist open in the system browser instead), no <webview>.
 */
export function hardenContents(contents: ContentsLike, openExternal: (url: string) => void): void {
  const stay = (e: { preventDefault(): void }, url: string) => {
    if (!allowNavigation(url)) e.preventDefault();
  };
  contents.on('will-navigate', stay);
  contents.on('will-redirect', stay);
  contents.on('will-attach-webview', (e) => e.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    if (allowExternal(url)) openExternal(url);
    return { action: 'deny' };
  });
}

const MIME: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml', '.png': 'image/png', '.woff2': 'font/woff2' };

/** The app:// protocol: a file of the renderer with the CSP, or 404 for anything else. */
export async function appProtocolResponse(rootDir: string, url: string, readFile: (path: string) => Promise<Buffer>): Promise<{ status: number; headers: Record<string, string>; body: Buffer | null }> {
  const headers = { 'Content-Security-Policy': CSP, 'X-Content-Type-Options': 'nosniff' };
  const file = resolveAppFile(rootDir, url);
  if (!file) return { status: 404, headers, body: null };
  try {
    const body = await readFile(file);
    const ext = /\.[a-z0-9]+$/i.exec(file)?.[0]?.toLowerCase() ?? '';
    return { status: 200, headers: { ...headers, 'Content-Type': MIME[ext] ?? 'application/octet-stream' }, body };
  } catch {
    return { status: 404, headers, body: null };
  }
}
