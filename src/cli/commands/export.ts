import { parseArgs } from '../args.js';
import { exportBundle } from '../../core/bundle/export.js';
import { UsageError } from '../../core/errors.js';
import type { Command } from '../command.js';
import { formatBytes } from '../format.js';
import { printJson, type CliIO } from '../io.js';
import { progressLine } from '../progress-line.js';
import { openRepo, REPO_OPTIONS } from '../repo-access.js';

export const exportCommand: Command = {
  name: 'export',
  summary: 'write one snapshot as a single encrypted .chatsafe file',
  usage: `Usage: chatsafe export --repo PATH [SNAPSHOT|latest] --out FILE.chatsafe [--overwrite] [--key-file FILE] [--json]

Writes the snapshot as one encrypted file, for sending to support or keeping
on removable media. The same key (or password) opens it:
  chatsafe restore FILE.chatsafe --target DIR

--overwrite replaces an existing regular file; a folder, a FIFO, a device or
a link to one at FILE is always refused.`,
  async run(args: string[], io: CliIO): Promise<number> {
    const { values, positionals } = parseArgs({ args, options: { ...REPO_OPTIONS, out: { type: 'string' }, overwrite: { type: 'boolean', default: false } }, allowPositionals: true });
    if (!values.out) throw new UsageError('Where to? Pass --out FILE.chatsafe.');
    if (!values.out.endsWith('.chatsafe')) throw new UsageError('The bundle file name must end in .chatsafe.');
    if (positionals.length > 1) throw new UsageError(`Unexpected argument "${positionals[1]}".`);
    const repo = await openRepo(values, io);
    const snap = await repo.findSnapshot(positionals[0] ?? 'latest');
    const progress = progressLine(io);
    let result;
    try {
      result = await exportBundle(repo, snap, values.out, { overwrite: values.overwrite, signal: io.signal, onProgress: progress.listener });
    } finally {
      progress.end();
    }
    if (values.json) printJson(io, { snapshot: snap.id, out: values.out, ...result });
    else io.stdout.write(`Wrote ${values.out} (${formatBytes(result.bytes)}, ${result.files} files) from snapshot ${snap.id.slice(0, 8)}.\n`);
    return 0;
  },
};
