import { parseArgs } from '../args.js';
import { UsageError } from '../../core/errors.js';
import { removeAllLocks } from '../../core/repo/lock.js';
import type { Command } from '../command.js';
import { printJson, type CliIO } from '../io.js';
import { openRepo, REPO_OPTIONS } from '../repo-access.js';

export const unlockCommand: Command = {
  name: 'unlock',
  summary: 'remove locks left by a crashed process',
  usage: `Usage: chatsafe unlock --repo PATH [--key-file FILE] [--json]

Removes every lock. Only use it when no other Chatsafe is using the repository
(for example after a computer crashed during a backup); locks of crashed
processes on this computer are removed automatically.`,
  async run(args: string[], io: CliIO): Promise<number> {
    const { values, positionals } = parseArgs({ args, options: REPO_OPTIONS, allowPositionals: true });
    if (positionals.length > 0) throw new UsageError(`Unexpected argument "${positionals[0]}".`);
    const repo = await openRepo(values, io);
    const n = await removeAllLocks(repo);
    if (values.json) printJson(io, { removedLocks: n });
    else io.stdout.write(`Removed ${n} lock(s).\n`);
    return 0;
  },
};
