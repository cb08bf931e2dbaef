import { parseArgs } from '../args.js';
import { UsageError } from '../../core/errors.js';
import { restore } from '../../core/restore/restore.js';
import type { Command } from '../command.js';
import { formatBytes } from '../format.js';
import { growHeapsSlowly } from '../../core/jobs/heap-growth.js';
import { printJson, type CliIO } from '../io.js';
import { progressLine } from '../progress-line.js';
import { openRepo, REPO_OPTIONS } from '../repo-access.js';

export const restoreCommand: Command = {
  name: 'restore',
  summary: 'restore a snapshot (or a .chatsafe bundle) into a folder',
  usage: `Usage: chatsafe restore --repo PATH [SNAPSHOT|latest] --target DIR [--overwrite] [--key-file FILE] [--json]
       chatsafe restore FILE.chatsafe --target DIR [--overwrite] [--key-file FILE] [--json]

Restores every file byte for byte, with its permissions and modification time.
Refuses to replace existing files unless --overwrite is given; a file that is
already there with the snapshot's bytes (as a cancelled restore leaves the
files it completed) is kept and given the snapshot's permissions and time, so
running a cancelled restore again finishes it. A file appears only once all of
it was authenticated and written. The target may not be the repository's
folder or lie inside it.`,
  async run(args: string[], io: CliIO): Promise<number> {
    const { values, positionals } = parseArgs({
      args,
      options: { ...REPO_OPTIONS, target: { type: 'string' }, overwrite: { type: 'boolean', default: false } },
      allowPositionals: true,
    });
    if (!values.target) throw new UsageError('Where to? Pass --target DIR.');
    if (positionals.length > 1) throw new UsageError(`Unexpected argument "${positionals[1]}".`);
    const ref = positionals[0] ?? 'latest';
    growHeapsSlowly();
    if (!values.repo && ref.endsWith('.chatsafe')) {
      // Loaded only for a bundle: its format module brings zod, which a repository restore does not need.
      const { restoreBundleCommand } = await import('./restore-bundle.js');
      return restoreBundleCommand(ref, values, values.target, io);
    }
    const repo = await openRepo(values, io);
    const snapshot = await repo.findSnapshot(ref);
    const progress = progressLine(io);
    let result;
    try {
      result = await restore(repo, { snapshot, target: values.target, overwrite: values.overwrite, signal: io.signal, onProgress: progress.listener });
    } finally {
      progress.end();
    }
    if (values.json) printJson(io, { snapshot: snapshot.id, target: values.target, ...result });
    else {
      const kept = result.kept > 0 ? `; ${result.kept} file(s) already there as the snapshot has them were kept` : '';
      io.stdout.write(`Restored ${result.files} files (${formatBytes(result.bytes)}) from snapshot ${snapshot.id.slice(0, 8)} into ${values.target}${kept}.\n`);
    }
    return 0;
  },
};
