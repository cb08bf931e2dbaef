/**
 * The hidden key prompt, with a stand-in terminal: Enter and Ctrl-D end the
 * input, Ctrl-C and the cancel signal end the prompt as a cancel, and the
 * terminal always leaves raw mode.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { getCredential } from '../../src/cli/credentials.js';
import type { CliIO } from '../../src/cli/io.js';
import { promptHidden } from '../../src/cli/prompt.js';

function fakeTerminal(signal: AbortSignal = new AbortController().signal) {
  const stdin = Object.assign(new PassThrough(), { isTTY: true, raw: false, setRawMode(raw: boolean) { stdin.raw = raw; } });
  const stderr = new PassThrough();
  const io: CliIO = { stdin, stdout: new PassThrough(), stderr, env: {}, signal };
  return { io, stdin };
}

test('Enter and Ctrl-D end the typed text; backspace removes a character', async () => {
  for (const end of ['\r', '\u0004']) {
    const { io, stdin } = fakeTerminal();
    const answer = promptHidden(io, 'Key: ');
    stdin.write(`abx\u007fc${end}ignored`);
    assert.equal(await answer, 'abc');
    assert.equal(stdin.raw, false);
  }
});

test('Ctrl-D on an empty prompt is no key (usage error), not a key digit', async () => {
  const { io, stdin } = fakeTerminal();
  const credential = getCredential({}, io);
  stdin.write('\u0004');
  await assert.rejects(credential, (e: Error & { kind?: string }) => e.kind === 'usage' && /No key was typed/.test(e.message));
});

test('the cancel signal (Ctrl-C, SIGTERM) ends the prompt as a cancel and leaves raw mode', async () => {
  const controller = new AbortController();
  const { io, stdin } = fakeTerminal(controller.signal);
  const answer = promptHidden(io, 'Key: ');
  stdin.write('12');
  await new Promise((r) => setImmediate(r));
  assert.equal(stdin.raw, true);
  controller.abort();
  await assert.rejects(answer, (e: Error & { kind?: string }) => e.kind === 'cancelled');
  assert.equal(stdin.raw, false);
  assert.equal(stdin.listenerCount('data'), 0);

  await assert.rejects(promptHidden(io, 'Key: '), (e: Error & { kind?: string }) => e.kind === 'cancelled', 'a prompt after the cancel does not wait');
});

test('Ctrl-C typed at the prompt cancels', async () => {
  const { io, stdin } = fakeTerminal();
  const answer = promptHidden(io, 'Key: ');
  stdin.write('12\u0003');
  await assert.rejects(answer, (e: Error & { kind?: string }) => e.kind === 'cancelled');
});
