/**
 * Turning untrusted values from phone databases and export files into values
 * the catalog accepts. Nothing here throws: bad values become null (or a
 * clamped value) and the importer counts them in its report.
 */

/** Longest text kept for one message; WhatsApp itself caps messages at 65,536 characters. */
export const MAX_TEXT_CHARS = 65_536;
export const MAX_NAME_CHARS = 256;

// Control characters other than tab, newline and carriage return; NUL in particular breaks C APIs downstream.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g;

export function cleanText(value: unknown, max = MAX_TEXT_CHARS): string | null {
  if (typeof value !== 'string') {
    if (typeof value === 'number' || typeof value === 'bigint') return String(value);
    return null;
  }
  let s = value.replace(CONTROL, '');
  if (s.length > max) s = `${s.slice(0, max)}…`;
  return s;
}

export function cleanName(value: unknown): string | null {
  const s = cleanText(value, MAX_NAME_CHARS);
  if (s === null) return null;
  const t = s.replace(/[\r\n\t]+/g, ' ').trim();
  return t === '' ? null : t;
}

/** 1990-01-01 .. 2100-01-01: anything outside is a broken timestamp, not a real message time. */
export const MIN_MILLIS = 631_152_000_000;
export const MAX_MILLIS = 4_102_444_800_000;

/** A UTC millisecond time, or null when the value is not a plausible time. */
export function validMillis(value: unknown): number | null {
  const n = toNumber(value);
  if (n === null || !Number.isFinite(n)) return null;
  const ms = Math.trunc(n);
  return ms >= MIN_MILLIS && ms <= MAX_MILLIS ? ms : null;
}

/** Seconds (Unix epoch) to UTC ms, validated. */
export function validSeconds(value: unknown): number | null {
  const n = toNumber(value);
  return n === null ? null : validMillis(n * 1000);
}

export function toNumber(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value.trim())) return Number(value);
  return null;
}

/** A non-negative safe integer, or null. */
export function toCount(value: unknown): number | null {
  const n = toNumber(value);
  return n !== null && Number.isSafeInteger(Math.trunc(n)) && n >= 0 ? Math.trunc(n) : null;
}

export function toBool(value: unknown): boolean {
  const n = toNumber(value);
  return n !== null ? n !== 0 : value === true;
}
