/**
 * The root key K: 32 random bytes the user keeps, shown as 64 hex digits in
 * 16 groups of 4. The bytes never leave this object except through `use`
 * (for key derivation) and `toDisplayString` (for the one moment the user must
 * see them); logging or JSON-serialising a RootKey prints a placeholder.
 */
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { WrongKeyError, type KeyTypoSuggestion } from '../errors.js';

export const ROOT_KEY_BYTES = 32;
const HEX_DIGITS = '0123456789ABCDEF';

export class RootKey {
  readonly #bytes: Buffer;
  private constructor(bytes: Buffer) {
    this.#bytes = Buffer.from(bytes);
  }

  static generate(): RootKey {
    return new RootKey(randomBytes(ROOT_KEY_BYTES));
  }

  static fromBytes(bytes: Uint8Array): RootKey {
    if (bytes.length !== ROOT_KEY_BYTES) throw new RangeError('a root key is 32 bytes');
    return new RootKey(Buffer.from(bytes));
  }

  /** Parses what a person typed or pasted: spaces, dashes, line breaks and case are ignored. */
  static parse(text: string): RootKey {
    return RootKey.fromBytes(Buffer.from(normalizeKeyText(text), 'hex'));
  }

  /** Runs `fn` with the raw bytes (for HKDF); the buffer is a copy the caller must not keep. */
  use<T>(fn: (bytes: Buffer) => T): T {
    const copy = Buffer.from(this.#bytes);
    try {
      return fn(copy);
    } finally {
      copy.fill(0);
    }
  }

  /** The 64-digit key in 16 groups of four, for the user to write down. */
  toDisplayString(): string {
    return formatKeyDigits(this.#bytes.toString('hex').toUpperCase());
  }

  toString(): string {
    return '[RootKey]';
  }
  toJSON(): string {
    return '[RootKey]';
  }
  [inspect.custom](): string {
    return '[RootKey]';
  }
}

export function formatKeyDigits(hex64: string): string {
  return hex64.match(/.{1,4}/g)!.join(' ');
}

/**
 * Normalises typed key text to 64 uppercase hex digits, or throws a
 * WrongKeyError that says exactly what is wrong and where.
 */
export function normalizeKeyText(text: string): string {
  const cleaned = text.replace(/[\s\-_.:]/g, '').toUpperCase();
  for (let i = 0; i < cleaned.length; i++) {
    if (!HEX_DIGITS.includes(cleaned[i]!)) {
      const where = i < 64 ? ` (group ${Math.floor(i / 4) + 1}, digit ${(i % 4) + 1})` : '';
      throw new WrongKeyError(
        `The key contains "${cleaned[i]}"${where}, which is not a key digit.`,
        'A key has 64 digits, each 0-9 or A-F. O is always the digit 0 and I or L the digit 1; check the key you wrote down.',
      );
    }
  }
  if (cleaned.length !== 64) {
    throw new WrongKeyError(
      `The key has ${cleaned.length} digit${cleaned.length === 1 ? '' : 's'}; a key has 64 (16 groups of 4).`,
      'Check that you copied the whole key, and no other text.',
    );
  }
  return cleaned;
}

/**
 * When a well-formed key does not open the repository, tries every single-
 * digit substitution (64 × 15 candidates) against `opens`; returns the one
 * place and digit that makes it open, if exactly one does.
 */
export function findSingleDigitTypo(typedHex: string, opens: (candidate: RootKey) => boolean): KeyTypoSuggestion | null {
  const typed = normalizeKeyText(typedHex);
  let found: KeyTypoSuggestion | null = null;
  for (let i = 0; i < typed.length; i++) {
    for (const d of HEX_DIGITS) {
      if (d === typed[i]) continue;
      const candidate = typed.slice(0, i) + d + typed.slice(i + 1);
      if (opens(RootKey.parse(candidate))) {
        if (found) return null; // ambiguous: do not guess
        found = { group: Math.floor(i / 4) + 1, digit: (i % 4) + 1, typed: typed[i]!, suggested: d };
      }
    }
  }
  return found;
}

export function describeTypo(s: KeyTypoSuggestion): string {
  return `group ${s.group}, digit ${s.digit}: you typed ${s.typed}, did you mean ${s.suggested}?`;
}
