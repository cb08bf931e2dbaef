import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assessPassword } from '../../../src/core/vault/client.js';

test('common passwords and their decorated forms are refused', () => {
  for (const pw of ['password', 'P@ssw0rd1', 'qwerty123', 'iloveyou!', 'Chatsafe2024', 'letmein']) {
    const a = assessPassword(pw);
    assert.equal(a.score, 0, pw);
    assert.equal(a.acceptable, false, pw);
    assert.match(a.feedback, /common/);
  }
});

test('short, repetitive and sequential passwords are refused', () => {
  for (const pw of ['', 'abc', 'aaaaaaaaaaaa', '12345678', 'abcdefghij', 'qwertyuiop', 'xkq7']) {
    assert.equal(assessPassword(pw).acceptable, false, pw);
  }
  assert.match(assessPassword('xkq7').feedback, /short/);
});

test('passphrases and long random passwords are accepted, and ranked above middling ones', () => {
  const phrase = assessPassword('correct horse battery staple');
  assert.equal(phrase.acceptable, true);
  assert.ok(phrase.score >= 3);
  const random = assessPassword('t9#Vq2!mZ8@wLp4&');
  assert.equal(random.score, 4);
  const middling = assessPassword('sunflower72');
  assert.ok(middling.score < random.score);
  assert.ok(assessPassword('élan vital über café').acceptable);
});
