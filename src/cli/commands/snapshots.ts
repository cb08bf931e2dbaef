import { parseArgs } from '../args.js';
import { UsageError } from '../../core/errors.js';
import { shortId } from '../../core/repo/snapshot.js';
import type { Command } from '../command.js';
import { formatBytes } from '../format.js';
import { printJson, type CliIO } from '../io.js';
import { openRepo, REPO_OPTIONS } from '../repo-access.js';

export const snapshotsCommand: Command = {
  name: 'snapshots',
  summary: 'list the snapshots in a repository',
  usage: `Usage: chatsafe snapshots --repo PATH [--key-file FILE] [--json]`,
  async run(args: string[], io: CliIO): Promise<number> {
    const { values, positionals } = parseArgs({ args, options: REPO_OPTIONS, allowPositionals: true });
    if (positionals.length > 0) throw new UsageError(`Unexpected argument "${positionals[0]}".`);
    const repo = await openRepo(values, io);
    const all = await repo.listSnapshots();
    if (values.json) {
      printJson(
        io,
        all.map((r) => ({ id: r.id, shortId: shortId(r.id), time: r.snapshot.time, hostname: r.snapshot.hostname, paths: r.snapshot.paths, sourceKind: r.snapshot.sourceKind, hasCatalog: r.snapshot.catalog !== null, summary: r.snapshot.summary })),
      );
      return 0;
    }
    if (all.length === 0) {
      io.stdout.write('No snapshots yet.\n');
      return 0;
    }
    io.stdout.write('ID        Time                      Files      Size  Source\n');
    for (const r of all) {
      const s = r.snapshot;
      io.stdout.write(`${shortId(r.id)}  ${s.time.padEnd(24)}  ${String(s.summary.files).padStart(5)}  ${formatBytes(s.summary.bytes).padStart(8)}  ${s.paths.join(', ')}\n`);
    }
    return 0;
  },
};
