import { parseArgs } from '../args.js';
import { checkRepository, checkWithoutKey, type CheckReport } from '../../core/check/check.js';
import { UsageError } from '../../core/errors.js';
import { withLock } from '../../core/repo/lock.js';
import { Repository } from '../../core/repo/repository.js';
import type { Command } from '../command.js';
import { getCredential } from '../credentials.js';
import { EXIT } from '../exit-codes.js';
import { formatBytes } from '../format.js';
import { printJson, type CliIO } from '../io.js';
import { progressLine } from '../progress-line.js';
import { openBackend, REPO_OPTIONS, requireRepoAddress } from '../repo-access.js';
import { cliVaultUnlocker } from '../vault-access.js';

export const checkCommand: Command = {
  name: 'check',
  summary: 'verify a repository or bundle; --read-data decrypts everything',
  usage: `Usage: chatsafe check --repo PATH [--read-data] [--no-key] [--key-file FILE] [--json]
       chatsafe check FILE.chatsafe [--no-key] [--key-file FILE] [--json]

Checks structure: the header and key slots, that every index file, snapshot
and folder listing authenticates, and that every chunk a snapshot needs is in
a pack of the right size. --read-data also reads and decrypts every pack and
checks each chunk against its id. Every problem is listed with the object it
is in. Exit code 4 when anything is damaged.

  --no-key     check without the key (what support can do): the header, and with
               --read-data that every object's bytes match its name`,
  async run(args: string[], io: CliIO): Promise<number> {
    const { values, positionals } = parseArgs({
      args,
      options: { ...REPO_OPTIONS, 'read-data': { type: 'boolean', default: false }, 'no-key': { type: 'boolean', default: false } },
      allowPositionals: true,
    });
    if (positionals.length > 1) throw new UsageError(`Unexpected argument "${positionals[1]}".`);
    const progress = progressLine(io);
    let report: CheckReport;
    try {
      if (positionals.length === 1 && !values.repo) {
        const credential = values['no-key'] ? null : await getCredential({ keyFile: values['key-file'], password: values.password }, io);
        // Loaded only for a bundle: its format module brings zod, which a repository check does not need.
        const { checkBundle } = await import('../../core/bundle/restore-bundle.js');
        report = await checkBundle(positionals[0]!, credential, { signal: io.signal, vaultUnlocker: cliVaultUnlocker(io) });
      } else {
        if (positionals.length === 1) throw new UsageError(`Unexpected argument "${positionals[0]}".`, 'Give either --repo PATH or a .chatsafe file.');
        const backend = await openBackend(requireRepoAddress(values, io), io);
        if (values['no-key']) {
          report = await checkWithoutKey(backend, { readData: values['read-data'], signal: io.signal, onProgress: progress.listener });
        } else {
          const credential = await getCredential({ keyFile: values['key-file'], password: values.password }, io);
          const repo = await Repository.open(backend, credential, cliVaultUnlocker(io));
          report = await withLock(repo, false, () => checkRepository(repo, { readData: values['read-data'], signal: io.signal, onProgress: progress.listener }));
        }
      }
    } finally {
      progress.end();
    }
    if (values.json) printJson(io, report);
    else {
      for (const e of report.errors) io.stdout.write(`error: ${e.object}: ${e.message}\n`);
      for (const w of report.warnings) io.stdout.write(`warning: ${w.object}: ${w.message}\n`);
      const c = report.counts;
      io.stdout.write(
        report.ok
          ? `No problems found (${c.snapshots} snapshot(s), ${c.packs} pack(s)${report.readData ? `, ${formatBytes(c.bytesRead)} read and verified` : ''}).\n`
          : `${report.errors.length} problem(s) found. The backup is damaged or was modified; restore from another copy if you have one.\n`,
      );
    }
    return report.ok ? EXIT.ok : EXIT.integrity;
  },
};
