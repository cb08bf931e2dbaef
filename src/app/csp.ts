/**
 * The renderer's Content-Security-Policy, shared by Electron and the local
 * web mode. They differ only in connections: in Electron the API is IPC, so
 * the page may connect nowhere; in web mode it talks to its own origin.
 */
export function rendererCsp(connectSrc: "'none'" | "'self'"): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    `connect-src ${connectSrc}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "object-src 'none'",
  ].join('; ');
}
