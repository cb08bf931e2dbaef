/**
 * When a typed 64-digit key does not open a crypt15 backup, tries every
 * single-digit change (64 places x 15 other digits) against the first block
 * of the backup. If exactly one of them opens it, that digit was mistyped and
 * the person is told where. Costs a few tens of milliseconds.
 */
import { createDecipheriv } from 'node:crypto';
import type { KeyTypoSuggestion } from '../../errors.js';
import { crypt15BackupKey } from './key.js';
import { isRecognisedPayload } from './plaintext-probe.js';

const HEX = '0123456789abcdef';

export function findSingleDigitTypo(root: Buffer, iv: Buffer, firstCiphertext: Buffer): KeyTypoSuggestion | undefined {
  const typed = root.toString('hex');
  let found: KeyTypoSuggestion | undefined;
  for (let i = 0; i < typed.length; i += 1) {
    for (const d of HEX) {
      if (d === typed[i]) continue;
      const candidate = Buffer.from(typed.slice(0, i) + d + typed.slice(i + 1), 'hex');
      // Only the keystream is needed here; the tag is checked by the real decryption.
      const plain = createDecipheriv('aes-256-gcm', crypt15BackupKey(candidate), iv).update(firstCiphertext);
      if (!isRecognisedPayload(plain)) continue;
      if (found) return undefined; // two candidates: no honest single suggestion
      found = { group: Math.floor(i / 4) + 1, digit: (i % 4) + 1, typed: typed[i] ?? '', suggested: d };
    }
  }
  return found;
}
