import type { ErrorKind } from '../core/errors.js';

/** The CLI's exit codes; listed in `chatsafe --help` and the README. */
export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  wrongKey: 3,
  integrity: 4,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export function exitCodeFor(kind: ErrorKind): ExitCode {
  switch (kind) {
    case 'usage':
      return EXIT.usage;
    case 'wrong-key':
    case 'locked-out':
      return EXIT.wrongKey;
    case 'integrity':
      return EXIT.integrity;
    default:
      return EXIT.failure;
  }
}

export const EXIT_CODES_HELP = `Exit codes:
  0  success
  1  failure (storage, file system, cancelled, anything else)
  2  usage error (bad command, option or argument)
  3  wrong key or password (or the vault destroyed the key)
  4  integrity failure (damaged or tampered data)`;
