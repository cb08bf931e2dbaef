import { parseArgs } from '../args.js';
import { UsageError } from '../../core/errors.js';
import { shortId } from '../../core/repo/snapshot.js';
import { forget } from '../../core/retention/retention.js';
import type { Command } from '../command.js';
import { printJson, type CliIO } from '../io.js';
import { openRepo, parseCount, REPO_OPTIONS } from '../repo-access.js';

export const forgetCommand: Command = {
  name: 'forget',
  summary: 'forget all but the newest N snapshots (then run prune)',
  usage: `Usage: chatsafe forget --repo PATH --keep-last N [--key-file FILE] [--json]

Removes all but the newest N snapshots. Their data stays until \`chatsafe prune\`.`,
  async run(args: string[], io: CliIO): Promise<number> {
    const { values, positionals } = parseArgs({ args, options: { ...REPO_OPTIONS, 'keep-last': { type: 'string' } }, allowPositionals: true });
    if (positionals.length > 0) throw new UsageError(`Unexpected argument "${positionals[0]}".`);
    if (values['keep-last'] === undefined) throw new UsageError('How many to keep? Pass --keep-last N.');
    const keepLast = parseCount(values['keep-last'], 'keep-last', 1);
    const repo = await openRepo(values, io);
    const forgotten = await forget(repo, keepLast);
    if (values.json) printJson(io, { forgotten: forgotten.map((f) => f.id) });
    else io.stdout.write(forgotten.length ? forgotten.map((f) => `forgot ${shortId(f.id)} (${f.snapshot.time})\n`).join('') : 'Nothing to forget.\n');
    return 0;
  },
};
