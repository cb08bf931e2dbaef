/**
 * Reading secrets from a terminal without echoing them. Only used when stdin
 * is a TTY; scripts use --key-file or the environment instead.
 */
import { ChatsafeError } from '../core/errors.js';
import type { CliIO } from './io.js';

export async function promptHidden(io: CliIO, question: string): Promise<string> {
  const stdin = io.stdin;
  if (!stdin.isTTY || !stdin.setRawMode) {
    throw new ChatsafeError('usage', 'No key given, and there is no terminal to ask for one.', 'Pass --key-file FILE or set CHATSAFE_KEY.');
  }
  io.stderr.write(question);
  stdin.setRawMode(true);
  stdin.resume();
  return new Promise<string>((resolve, reject) => {
    let text = '';
    const onData = (buf: Buffer) => {
      for (const ch of buf.toString('utf8')) {
        if (ch === '\r' || ch === '\n') {
          cleanup();
          io.stderr.write('\n');
          resolve(text);
          return;
        }
        if (ch === '\u0003') {
          cleanup();
          io.stderr.write('\n');
          reject(new ChatsafeError('cancelled', 'Cancelled.'));
          return;
        }
        if (ch === '\u007f' || ch === '\b') text = text.slice(0, -1);
        else text += ch;
      }
    };
    const cleanup = () => {
      stdin.removeListener('data', onData);
      stdin.setRawMode!(false);
      stdin.pause();
    };
    stdin.on('data', onData);
  });
}
