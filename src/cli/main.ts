/**
 * `chatsafe` entry point: dispatches to a subcommand, turns Ctrl-C into a
 * cancellation signal, and maps errors to messages and exit codes. No error
 * reaches the user as a stack trace; unexpected ones are reported in one line.
 */
import { isChatsafeError } from '../core/errors.js';
import { APP_VERSION } from '../core/version.js';
import { asksForJson, HelpRequested } from './args.js';
import { COMMANDS } from './commands/index.js';
import { EXIT, EXIT_CODES_HELP, exitCodeFor } from './exit-codes.js';
import { printJson, processIO, type CliIO } from './io.js';

export function helpText(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  const lines = COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return `chatsafe ${APP_VERSION}: end-to-end encrypted backups of phone chat histories

Usage: chatsafe COMMAND [OPTIONS]   (chatsafe COMMAND --help for details)

Commands:
${lines.join('\n')}

The key is read from --key-file FILE (a regular file of at most 4 KB), the
CHATSAFE_KEY environment variable, or an interactive prompt; never from the
command line itself. --key-file and --password do not go together.

${EXIT_CODES_HELP}
`;
}

export async function runCli(argv: string[], io: CliIO): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(helpText());
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (name === '--version' || name === '-V') {
    io.stdout.write(`${APP_VERSION}\n`);
    return EXIT.ok;
  }
  const entry = COMMANDS.find((c) => c.name === name);
  if (!entry) {
    io.stderr.write(`chatsafe: unknown command "${name}". Run \`chatsafe --help\` for the list.\n`);
    return EXIT.usage;
  }
  let command;
  try {
    command = await entry.load();
    // Right after the command name it cannot be anything but help, even for commands whose next word is a subcommand.
    if (rest[0] === '--help' || rest[0] === '-h') throw new HelpRequested();
    return await command.run(rest, io);
  } catch (e) {
    if (e instanceof HelpRequested && command) {
      io.stdout.write(`${command.usage.trimEnd()}\n\n${EXIT_CODES_HELP}\n`);
      return EXIT.ok;
    }
    const { kind, message, hint, exitCode } = reportError(io, name, e);
    // A script that asked for JSON reads stdout: a failure is one document there too.
    if (asksForJson(rest)) printJson(io, { error: { kind, message, hint }, exitCode });
    return exitCode;
  }
}

interface Failure {
  /** An error kind (src/core/errors.ts), or `unexpected` for a failure that is not one. */
  readonly kind: string;
  readonly message: string;
  readonly hint: string | null;
  readonly exitCode: number;
}

export function reportError(io: CliIO, command: string, e: unknown): Failure {
  if (isChatsafeError(e)) {
    io.stderr.write(`chatsafe ${command}: ${e.message}\n`);
    if (e.hint) io.stderr.write(`  ${e.hint}\n`);
    if (e.kind === 'usage' && !e.hint?.includes('--help')) io.stderr.write(`  Run \`chatsafe ${command} --help\` for usage.\n`);
    return { kind: e.kind, message: e.message, hint: e.hint ?? null, exitCode: exitCodeFor(e.kind) };
  }
  // util.parseArgs reports unknown options and missing values with these codes.
  const code = (e as { code?: string })?.code;
  const message = (e as Error)?.message ?? String(e);
  if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) {
    const hint = `Run \`chatsafe ${command} --help\` for usage.`;
    io.stderr.write(`chatsafe ${command}: ${message}\n  ${hint}\n`);
    return { kind: 'usage', message, hint, exitCode: EXIT.usage };
  }
  io.stderr.write(`chatsafe ${command}: unexpected failure: ${message}\n`);
  if (process.env.CHATSAFE_DEBUG) io.stderr.write(`${(e as Error)?.stack ?? ''}\n`);
  return { kind: 'unexpected', message, hint: null, exitCode: EXIT.failure };
}

export async function main(argv: string[]): Promise<number> {
  const controller = new AbortController();
  let interrupts = 0;
  process.on('SIGINT', () => {
    interrupts += 1;
    if (interrupts > 1) process.exit(130);
    process.stderr.write('\nCancelling… (press Ctrl-C again to quit at once)\n');
    controller.abort();
  });
  process.on('SIGTERM', () => controller.abort());
  // `chatsafe chats | head` closes the pipe early; that is not a failure.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
  return runCli(argv, processIO(controller.signal));
}
