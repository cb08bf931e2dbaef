/**
 * Reading secrets from a terminal without echoing them. Only used when stdin
 * is a TTY; scripts use --key-file or the environment instead.
 */
import { CancelledError, ChatsafeError } from '../core/errors.js';
import type { CliIO } from './io.js';

export async function promptHidden(io: CliIO, question: string): Promise<string> {
  const stdin = io.stdin;
  if (!stdin.isTTY || !stdin.setRawMode) {
    throw new ChatsafeError('usage', 'No key given, and there is no terminal to ask for one.', 'Pass --key-file FILE or set CHATSAFE_KEY.');
  }
  if (io.signal.aborted) throw new CancelledError();
  io.stderr.write(question);
  stdin.setRawMode(true);
  stdin.resume();
  return new Promise<string>((resolve, reject) => {
    let text = '';
    const finish = (outcome: () => void) => {
      cleanup();
      io.stderr.write('\n');
      outcome();
    };
    const onData = (buf: Buffer) => {
      for (const ch of buf.toString('utf8')) {
        // Ctrl-D ends the input as Enter does: in raw mode the terminal passes it on as a character.
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return finish(() => resolve(text));
        if (ch === '\u0003') return finish(() => reject(new CancelledError()));
        if (ch === '\u007f' || ch === '\b') text = text.slice(0, -1);
        else text += ch;
      }
    };
    const onEnd = () => finish(() => resolve(text));
    // Ctrl-C sent by `kill -INT` or SIGTERM arrives as the signal, not as a character; waiting on kept the process alive.
    const onAbort = () => finish(() => reject(new CancelledError()));
    const cleanup = () => {
      stdin.removeListener('data', onData);
      stdin.removeListener('end', onEnd);
      io.signal.removeEventListener('abort', onAbort);
      stdin.setRawMode!(false);
      stdin.pause();
    };
    stdin.on('data', onData);
    stdin.on('end', onEnd);
    io.signal.addEventListener('abort', onAbort, { once: true });
  });
}
