/**
 * Building blocks for the hand-written validators of the repository's hot
 * metadata (index files and trees). They are parsed on every backup, tens of
 * thousands of entries each, so they are checked in one pass with char-code
 * loops instead of a schema library and its regexes; they still treat the JSON as hostile,
 * since a buggy or malicious client may have written it.
 *
 * A validator throws `Malformed` with the path of the first bad field and
 * `validatorOf` turns that into the `safeParse` result zod gives, so callers
 * accept zod schemas and these validators alike.
 */

export interface JsonIssue {
  readonly path: PropertyKey[];
  readonly message: string;
}

export type JsonParseResult<T> = { success: true; data: T } | { success: false; error: { issues: ReadonlyArray<JsonIssue> } };

/** What `openJson` needs from a schema; zod schemas satisfy it too. */
export interface JsonValidator<T> {
  safeParse(json: unknown): JsonParseResult<T>;
}

/** The first problem a validator found; only ever caught by `validatorOf`. */
export class Malformed extends Error {
  constructor(
    readonly path: PropertyKey[],
    message: string,
  ) {
    super(message);
  }
}

export function validatorOf<T>(parse: (json: unknown) => T): JsonValidator<T> {
  return {
    safeParse(json: unknown): JsonParseResult<T> {
      try {
        return { success: true, data: parse(json) };
      } catch (e) {
        if (e instanceof Malformed) return { success: false, error: { issues: [{ path: e.path, message: e.message }] } };
        throw e;
      }
    },
  };
}

/** A JSON object (not null, not an array), as zod's `z.object` accepts. */
export function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/**
 * Strictness for an object whose known keys were all read: `present` is how
 * many of them it has. Enumerates like zod does (`for…in`), so an own
 * `__proto__` key from JSON.parse counts as unknown.
 */
export function rejectUnknownKeys(o: Record<string, unknown>, present: number, known: ReadonlySet<string>, path: PropertyKey[]): void {
  let n = 0;
  for (const _key in o) {
    n++;
    if (n > present) break;
  }
  if (n === present) return;
  // The key itself stays out of the message: it is hostile text.
  for (const key in o) if (!known.has(key)) throw new Malformed(path, 'unknown key');
  // Every key is known yet the count differs: a known key holds `undefined` (not from JSON).
  throw new Malformed(path, 'a key holds no value');
}

/** 0 for the char codes of 0-9 and a-f, 1 for every other UTF-16 unit (so no bounds check is needed). */
const NOT_LOWER_HEX = new Uint8Array(65536).fill(1);
for (const c of '0123456789abcdef') NOT_LOWER_HEX[c.charCodeAt(0)] = 0;

/**
 * 64 lowercase hex digits: an object or blob id. Ids are most of an index
 * file; this table lookup, branch-free and four digits a step, takes about a
 * third of the time of the regex /^[0-9a-f]{64}$/.
 */
export function isHex64(s: unknown): s is string {
  if (typeof s !== 'string' || s.length !== 64) return false;
  let bad = 0;
  for (let i = 0; i < 64; i += 4) {
    bad |= NOT_LOWER_HEX[s.charCodeAt(i)]! | NOT_LOWER_HEX[s.charCodeAt(i + 1)]! | NOT_LOWER_HEX[s.charCodeAt(i + 2)]! | NOT_LOWER_HEX[s.charCodeAt(i + 3)]!;
  }
  return bad === 0;
}

/** A safe integer (what zod 4's `.int()` accepts) within [min, max]. */
export function isIntIn(x: unknown, min: number, max: number): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= min && x <= max;
}

/** ASCII digits only, optionally after one leading '-', between 1 and `maxDigits` of them. */
export function isDecimal(s: unknown, maxDigits: number, signed: boolean): s is string {
  if (typeof s !== 'string') return false;
  const start = signed && s.charCodeAt(0) === 45 ? 1 : 0;
  const digits = s.length - start;
  if (digits < 1 || digits > maxDigits) return false;
  for (let i = start; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/**
 * The length zod 4 measures strings in: Unicode code points, a surrogate pair
 * counting once and a lone surrogate once. Only counted when the UTF-16 length
 * alone cannot decide: a code point is one or two units.
 */
export function fitsLength(s: string, min: number, max: number): boolean {
  let length = s.length;
  if (length > max || (length >= min && length < 2 * min)) {
    for (let i = 0; i < s.length - 1; i++) {
      if ((s.charCodeAt(i) & 0xfc00) === 0xd800 && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
        length--;
        i++;
      }
    }
  }
  return length >= min && length <= max;
}

/** Exactly `length` lowercase hex digits (a random id such as a repository's or a key slot's). */
export function isLowerHex(s: unknown, length: number): s is string {
  if (typeof s !== 'string' || s.length !== length) return false;
  let bad = 0;
  for (let i = 0; i < length; i++) bad |= NOT_LOWER_HEX[s.charCodeAt(i)]!;
  return bad === 0;
}

/** A string of at most `max` code points, as zod 4's `z.string().max(max)` counts them. */
export function isStringUpTo(s: unknown, max: number): s is string {
  return typeof s === 'string' && fitsLength(s, 0, max);
}

/** A C0 control character, DEL or a C1 control character: bytes a terminal may act on. */
export function isControlCode(c: number): boolean {
  return c < 0x20 || (c >= 0x7f && c <= 0x9f);
}

/** `isStringUpTo` without control characters: cleartext that is shown as it is, without any key. */
export function isPrintableUpTo(s: unknown, max: number): s is string {
  if (!isStringUpTo(s, max)) return false;
  for (let i = 0; i < s.length; i++) if (isControlCode(s.charCodeAt(i))) return false;
  return true;
}

/** Finite and at least 0 (zod 4's `z.number().nonnegative()`: -0 passes, NaN and infinities do not). */
export function isNonNegative(x: unknown): x is number {
  return typeof x === 'number' && Number.isFinite(x) && x >= 0;
}

/** The ASCII digits at s[from, to) as a number, or -1 if any is not a digit. */
function digitsAt(s: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

const DAYS_IN_MONTH = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * What zod 4's `z.string().datetime()` accepts, the form `Date#toISOString`
 * writes: `YYYY-MM-DDTHH:MM:SS` with optional fractional seconds of any
 * length, always in UTC (`Z`); a real calendar day (29 February only in
 * Gregorian leap years), hours 00-23, minutes and seconds 00-59.
 */
export function isIsoDateTime(s: unknown): s is string {
  if (typeof s !== 'string' || s.length < 20 || s.charCodeAt(s.length - 1) !== 90 /* Z */) return false;
  if (s[4] !== '-' || s[7] !== '-' || s[10] !== 'T' || s[13] !== ':' || s[16] !== ':') return false;
  const year = digitsAt(s, 0, 4);
  const month = digitsAt(s, 5, 7);
  const day = digitsAt(s, 8, 10);
  const hour = digitsAt(s, 11, 13);
  const minute = digitsAt(s, 14, 16);
  const second = digitsAt(s, 17, 19);
  if (year < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return false;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (day > DAYS_IN_MONTH[month]! + (month === 2 && leap ? 1 : 0)) return false;
  if (s.length === 20) return true;
  // Between the seconds and the Z: a dot and at least one digit.
  return s[19] === '.' && s.length > 21 && digitsAt(s, 20, s.length - 1) >= 0;
}
