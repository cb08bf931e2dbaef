/**
 * The desktop app's security rules, as plain functions over the few Electron
 * objects they need (typed from the `electron` package, used only as types),
 * so they are unit-tested without the Electron binary. main.ts wires them.
 */
import { resolve, sep } from 'node:path';

export { allowExternal } from '../src/app/external-links.js';

/** The renderer's origin: files come from app://chatsafe/, never file://. */
export const APP_SCHEME = 'app';
export const APP_HOST = 'chatsafe';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;

export const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "connect-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join('; ');

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
