import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { test } from 'node:test';
import { WrongKeyError } from '../../../src/core/errors.js';
import { findSingleDigitTypo, normalizeKeyText, RootKey } from '../../../src/core/keys/root-key.js';

test('a new key is shown as 64 hex digits in 16 groups of 4 and parses back', () => {
  const k = RootKey.generate();
  const shown = k.toDisplayString();
  assert.match(shown, /^([0-9A-F]{4} ){15}[0-9A-F]{4}$/);
  const back = RootKey.parse(shown);
  assert.equal(back.toDisplayString(), shown);
  assert.notEqual(RootKey.generate().toDisplayString(), shown);
});

test('parsing ignores spaces, dashes, line breaks and case', () => {
  const hex = 'c0ffee00112233445566778899aabbccddeeff0123456789abcdef0fedcba987';
  const messy = ` ${hex.slice(0, 8)}-${hex.slice(8, 20)}\n${hex.slice(20).toUpperCase()}\t`;
  assert.equal(RootKey.parse(messy).toDisplayString(), RootKey.parse(hex).toDisplayString());
});

test('a malformed key says what is wrong and where', () => {
  assert.throws(() => normalizeKeyText('ABCD'.repeat(15) + 'ABC'), (e: unknown) => e instanceof WrongKeyError && /63 digits/.test(e.message));
  assert.throws(() => normalizeKeyText('ABCD'.repeat(5) + 'AGCD' + 'ABCD'.repeat(10)), (e: unknown) => e instanceof WrongKeyError && /"G" \(group 6, digit 2\)/.test(e.message));
});

test('the key never appears in JSON, String() or util.inspect', () => {
  const k = RootKey.generate();
  const digits = k.toDisplayString().replace(/ /g, '');
  for (const shown of [JSON.stringify({ k }), String(k), inspect(k), inspect({ nested: { k } })]) {
    assert.ok(!shown.toUpperCase().includes(digits.slice(0, 16)), shown);
  }
});

test('exactly one mistyped digit is found, with its group, position and the right digit', () => {
  const right = RootKey.generate();
  const digits = right.toDisplayString().replace(/ /g, '');
  const pos = 22; // group 6, digit 3
  const wrongDigit = digits[pos] === 'B' ? 'C' : 'B';
  const typed = digits.slice(0, pos) + wrongDigit + digits.slice(pos + 1);
  const s = findSingleDigitTypo(typed, (c) => c.toDisplayString() === right.toDisplayString());
  assert.deepEqual(s, { group: 6, digit: 3, typed: wrongDigit, suggested: digits[pos] });
});

test('no suggestion when two digits are wrong', () => {
  const right = RootKey.generate();
  const d = right.toDisplayString().replace(/ /g, '');
  const flip = (c: string) => (c === '0' ? '1' : '0');
  const typed = flip(d[0]!) + d.slice(1, 40) + flip(d[40]!) + d.slice(41);
  assert.equal(findSingleDigitTypo(typed, (c) => c.toDisplayString() === right.toDisplayString()), null);
});
