/** The only web pages the app itself opens in the system browser (https, these prefixes). */
export const EXTERNAL_ALLOWLIST: readonly string[] = ['https://chatsafe.app/', 'https://github.com/chatsafe/'];

export function allowExternal(url: string): boolean {
  try {
    const u = new URL(url);
    return u.protocol === 'https:' && u.username === '' && u.password === '' && EXTERNAL_ALLOWLIST.some((prefix) => u.href.startsWith(prefix));
  } catch {
    return false;
  }
}
