/**
 * util.parseArgs for commands, with one addition: `--help`/`-h` asks for the
 * command's usage only where it is an option. After `--` it is a file name,
 * and as an option's value (`--keep-last -h`) it is that value; seeing it
 * anywhere in argv once showed the usage in place of backing up `./-h`.
 */
import { parseArgs as nodeParseArgs, type ParseArgsConfig } from 'node:util';

/** Thrown by `parseArgs` when help was asked for; main prints the command's usage. */
export class HelpRequested extends Error {
  constructor() {
    super('help requested');
    this.name = 'HelpRequested';
  }
}

export function parseArgs<T extends ParseArgsConfig>(config: T): ReturnType<typeof nodeParseArgs<T>> {
  // Lenient, so that help wins over an unknown option or a missing value given with it.
  const { tokens } = nodeParseArgs({ args: config.args, options: { ...config.options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: false, tokens: true });
  if (tokens.some((t) => t.kind === 'option' && t.name === 'help')) throw new HelpRequested();
  return nodeParseArgs(config);
}

/** Whether `--json` was given as an option (not after `--`): a failure then answers with a JSON document too. */
export function asksForJson(args: readonly string[]): boolean {
  const { tokens } = nodeParseArgs({ args: [...args], options: { json: { type: 'boolean' } }, allowPositionals: true, strict: false, tokens: true });
  return tokens.some((t) => t.kind === 'option' && t.name === 'json');
}
