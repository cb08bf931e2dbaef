/**
 * A password strength estimate for the prompt and the UI. It errs on the side
 * of caution: it estimates the guesses an attacker who knows common passwords
 * and patterns would need, not the raw character count. The vault limits
 * online guessing, but a stolen vault database with its HSM key would not be,
 * so very weak passwords are refused.
 */

export interface PasswordAssessment {
  score: 0 | 1 | 2 | 3 | 4;
  acceptable: boolean;
  feedback: string;
}

/** The most used passwords and their stems; any of these, however decorated, is weak. */
const COMMON = new Set([
  'password', 'passwort', 'motdepasse', 'contraseña', 'qwerty', 'azerty', 'qwertz', 'letmein', 'welcome', 'admin',
  'iloveyou', 'monkey', 'dragon', 'master', 'sunshine', 'princess', 'football', 'baseball', 'shadow', 'superman',
  'michael', 'jennifer', 'whatsapp', 'telegram', 'chatsafe', 'backup', 'secret', 'trustno1', 'abc', 'login',
  'starwars', 'freedom', 'whatever', 'hello', 'charlie', 'donald', 'batman', 'access', 'mustang', 'qazwsx',
  'zaq12wsx', 'asdf', 'asdfgh', 'zxcvbn', 'pokemon', 'liverpool', 'chelsea', 'arsenal', 'samsung', 'iphone',
  'android', 'google', 'facebook', 'changeme', 'default', 'test', 'guest', 'love', 'family', 'summer', 'winter',
]);

const SEQUENCES = ['abcdefghijklmnopqrstuvwxyz', '01234567890', 'qwertyuiop', 'asdfghjkl', 'zxcvbnm', 'azertyuiop', 'qwertzuiop'];

/** Collapses runs and sequences so "aaaaaaaa" or "12345678" count as one symbol each. */
function effectiveLength(pw: string): number {
  const lower = pw.toLowerCase();
  let length = 0;
  let i = 0;
  while (i < lower.length) {
    let j = i + 1;
    // a run of the same character
    while (j < lower.length && lower[j] === lower[i]) j++;
    if (j - i < 3) {
      // a run along a known sequence, forwards or backwards
      j = i + 1;
      while (j < lower.length && SEQUENCES.some((s) => adjacentIn(s, lower[j - 1]!, lower[j]!))) j++;
      if (j - i < 3) j = i + 1;
    }
    length += j - i >= 3 ? 1.5 : 1;
    i = j;
  }
  return length;
}

function adjacentIn(seq: string, a: string, b: string): boolean {
  const ia = seq.indexOf(a);
  const ib = seq.indexOf(b);
  return ia >= 0 && ib >= 0 && Math.abs(ia - ib) === 1;
}

function charsetSize(pw: string): number {
  let size = 0;
  if (/[a-z]/.test(pw)) size += 26;
  if (/[A-Z]/.test(pw)) size += 26;
  if (/[0-9]/.test(pw)) size += 10;
  if (/[^A-Za-z0-9]/.test(pw)) size += 33;
  // Non-ASCII letters widen the alphabet considerably.
  if ([...pw].some((c) => c.charCodeAt(0) > 0x7f)) size += 100;
  return Math.max(size, 10);
}

/** Undoes common letter-for-symbol substitutions: "p@ssw0rd" becomes "password". */
function unleet(s: string): string {
  return s
    .replace(/[0@]/g, (c) => (c === '0' ? 'o' : 'a'))
    .replace(/[1!]/g, 'i')
    .replace(/3/g, 'e')
    .replace(/\$|5/g, 's')
    .replace(/7/g, 't');
}

/** The word a password is likely built on, with case, substitutions and digits or symbols at the ends undone. */
function stems(pw: string): string[] {
  const lower = pw.toLowerCase();
  const trimEnds = (s: string) => s.replace(/^[^a-z]+|[^a-z]+$/g, '');
  return [...new Set([trimEnds(lower), trimEnds(unleet(lower)), unleet(trimEnds(lower.replace(/^[\d\W_]+|[\d\W_]+$/g, '')))])];
}

function isCommon(pw: string): boolean {
  if (COMMON.has(pw.toLowerCase())) return true;
  return stems(pw).some((base) => COMMON.has(base) || [...COMMON].some((c) => c.length >= 5 && base.startsWith(c) && base.length - c.length <= 2));
}

export function assessPassword(password: string): PasswordAssessment {
  const chars = [...password];
  if (chars.length === 0) return { score: 0, acceptable: false, feedback: 'Enter a password.' };
  const distinct = new Set(chars).size;
  if (isCommon(password)) {
    return { score: 0, acceptable: false, feedback: 'This is one of the most common passwords; attackers try it first. Choose something personal and longer, for example four unrelated words.' };
  }
  const words = password.trim().split(/[\s\-_.,]+/).filter((w) => w.length >= 3);
  let bits = effectiveLength(password) * Math.log2(charsetSize(password));
  // Few distinct characters mean far fewer real choices than the length suggests.
  if (distinct < 5) bits = Math.min(bits, distinct * 4);
  // A passphrase of several words: count about 11 bits per word (a large word list), if that is more.
  if (words.length >= 3) bits = Math.max(bits * 0.6, words.length * 11);
  else bits *= 0.6; // people pick letters and digits in predictable ways
  const score: PasswordAssessment['score'] = bits < 25 ? 0 : bits < 35 ? 1 : bits < 45 ? 2 : bits < 60 ? 3 : 4;
  const acceptable = score >= 2 && chars.length >= 8;
  const feedback =
    chars.length < 8
      ? 'Too short: use at least 8 characters; a few unrelated words are easier to remember and stronger.'
      : score <= 1
        ? 'Too easy to guess: avoid repeats, sequences like 1234 or qwerty, and single words with digits added.'
        : score === 2
          ? 'Acceptable. A longer password, for example another unrelated word, would make it much stronger.'
          : score === 3
            ? 'Strong.'
            : 'Very strong.';
  return { score, acceptable, feedback };
}
