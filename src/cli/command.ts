import type { CliIO } from './io.js';

/** One `chatsafe` subcommand. `run` returns the exit code; errors it throws are mapped by main. */
export interface Command {
  readonly name: string;
  /** One line for `chatsafe --help`. */
  readonly summary: string;
  /** Full usage text for `chatsafe NAME --help`. */
  readonly usage: string;
  run(args: string[], io: CliIO): Promise<number>;
}
