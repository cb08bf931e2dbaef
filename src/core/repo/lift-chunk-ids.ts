/**
 * A tree's chunk ids, taken out of its JSON text before the text is parsed. A chat database's
 * folder listed every page's id inline: 157,000 at 3 GiB, 10.5 MB of JSON (such a file now has
 * chunk lists, tree.ts, but repositories written before hold these). Parsed whole, that was the
 * text as a string (10.5 MB), a string per id (about 80 bytes each, 12.5 MB) and then the ids
 * as bytes, all at once, wherever a tree was read: a restore's plan, the verification at the end
 * of a backup, the next backup's comparison. Here the ids go straight from the bytes into one
 * array, and `JSON.parse` sees the rest of the text with each list replaced by its number.
 *
 * Anything but the plain form (`"content"` as a key, then an array of 64-digit lowercase hex
 * strings) gives up, and the caller parses the text whole: lifting is a shortcut, never a second
 * definition of what a tree may be.
 */
import { hexBytesInto, ID_BYTES } from '../crypto/ids.js';
import { JsonBytes } from './json-bytes.js';

export interface LiftedIds {
  /** The JSON text with every `"content"` array replaced by its list's number, in order from 0. */
  readonly text: string;
  /** Every list's ids, 32 bytes each, in order. */
  readonly ids: Uint8Array;
  /** List `k` is ids `[firsts[k], firsts[k] + counts[k])`. */
  readonly firsts: readonly number[];
  readonly counts: readonly number[];
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN = 0x5b;
const CLOSE = 0x5d;
const KEY = Buffer.from('"content"');
/** The fewest bytes an id takes in the text: its 64 digits and two quotes. */
const ID_TEXT_BYTES = ID_BYTES * 2 + 2;

export function liftChunkIds(bytes: Uint8Array): LiftedIds | null {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = b.length;
  const ids = new Uint8Array(Math.floor(n / ID_TEXT_BYTES) * ID_BYTES);
  let idCount = 0;
  const firsts: number[] = [];
  const counts: number[] = [];
  // The text with its lists taken out, written into one buffer (an empty list's number is longer
  // than its `[]`, so it may grow past the source's length): a piece of the text and a list's
  // number for each file were two Buffers, about 2 MiB of garbage for the 11,345 files of the
  // 3 GiB export's thumbnails folder, joined at the end into a third copy of the text.
  const text = new JsonBytes(n + 16);
  let kept = 0; // the text before this offset is in `text`
  let i = 0;
  // UTF-8 never puts an ASCII byte inside a longer character, so the structure can be read byte
  // by byte. The bytes are read here, not searched for with the buffer's own calls: a tree is
  // mostly short strings (names, times, keys), and two or three calls for each took 69 of a
  // restore's first 650 ms for the 1 GiB export's 7,365 files.
  while (i < n) {
    if (b[i] !== QUOTE) {
      i++;
      continue;
    }
    if (keyAt(b, i)) {
      let j = skipSpace(b, i + KEY.length);
      if (b[j] === COLON) {
        j = skipSpace(b, j + 1);
        if (b[j] !== OPEN) return null;
        const first = idCount;
        let k = skipSpace(b, j + 1);
        if (b[k] === CLOSE) k++;
        else {
          for (;;) {
            if (b[k] !== QUOTE || b[k + ID_TEXT_BYTES - 1] !== QUOTE || !hexBytesInto(b, k + 1, ids, idCount * ID_BYTES)) return null;
            idCount++;
            k = skipSpace(b, k + ID_TEXT_BYTES);
            if (b[k] === COMMA) k = skipSpace(b, k + 1);
            else if (b[k] === CLOSE) {
              k++;
              break;
            } else return null;
          }
        }
        text.copy(b, kept, j).uint(firsts.length);
        firsts.push(first);
        counts.push(idCount - first);
        kept = i = k;
        continue;
      }
    }
    i = stringEnd(b, i);
    if (i < 0) break; // an unterminated string: JSON.parse will say so
  }
  text.copy(b, kept, n);
  // The array was sized for as many ids as the text could hold: a folder of media files, one id
  // each among names and times, holds a quarter of that, and its lists would keep all of it.
  const used = idCount * ID_BYTES;
  return { text: text.bytes().toString('utf8'), ids: used * 2 < ids.length ? ids.slice(0, used) : ids.subarray(0, used), firsts, counts };
}

/** Just past the string that opens at `open`, or -1: a backslash escapes the byte after it. */
function stringEnd(b: Buffer, open: number): number {
  for (let q = open + 1; q < b.length; q++) {
    const c = b[q];
    if (c === BACKSLASH) q++;
    else if (c === QUOTE) return q + 1;
  }
  return -1;
}

/** Whether the string opening at `at` is the key's text, its closing quote included. */
function keyAt(b: Buffer, at: number): boolean {
  if (at + KEY.length > b.length) return false;
  for (let k = 1; k < KEY.length; k++) if (b[at + k] !== KEY[k]) return false;
  return true;
}

function skipSpace(b: Buffer, at: number): number {
  let i = at;
  // JSON's whitespace: space, tab, line feed, carriage return
  while (i < b.length && (b[i] === 0x20 || b[i] === 0x09 || b[i] === 0x0a || b[i] === 0x0d)) i++;
  return i;
}
