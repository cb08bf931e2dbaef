import { parseArgs } from '../args.js';
import { UsageError } from '../../core/errors.js';
import { prune } from '../../core/retention/retention.js';
import type { Command } from '../command.js';
import { formatBytes } from '../format.js';
import { printJson, type CliIO } from '../io.js';
import { progressLine } from '../progress-line.js';
import { openRepo, REPO_OPTIONS } from '../repo-access.js';

export const pruneCommand: Command = {
  name: 'prune',
  summary: 'remove data no snapshot uses any more',
  usage: `Usage: chatsafe prune --repo PATH [--key-file FILE] [--json]

Deletes packs no snapshot needs, rewrites mostly-unused ones, and merges the
index. Safe to interrupt: every snapshot stays restorable at every moment.`,
  async run(args: string[], io: CliIO): Promise<number> {
    const { values, positionals } = parseArgs({ args, options: REPO_OPTIONS, allowPositionals: true });
    if (positionals.length > 0) throw new UsageError(`Unexpected argument "${positionals[0]}".`);
    const repo = await openRepo(values, io);
    const progress = progressLine(io);
    let result;
    try {
      result = await prune(repo, { signal: io.signal, onProgress: progress.listener });
    } finally {
      progress.end();
    }
    if (values.json) printJson(io, result);
    else io.stdout.write(`Removed ${result.packsDeleted} pack(s) (${result.packsRewritten} rewritten), freed ${formatBytes(result.bytesFreed)}.\n`);
    return 0;
  },
};
