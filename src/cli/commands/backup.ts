import { parseArgs } from '../args.js';
import { importAndBackup } from '../../core/backup/import-and-backup.js';
import { UsageError } from '../../core/errors.js';
import { shortId } from '../../core/repo/snapshot.js';
import { applyRetention } from '../../core/retention/retention.js';
import type { Command } from '../command.js';
import { formatBytes } from '../format.js';
import { growHeapsSlowly } from '../../core/jobs/heap-growth.js';
import { printJson, type CliIO } from '../io.js';
import { progressLine } from '../progress-line.js';
import { openRepo, parseCount, REPO_OPTIONS } from '../repo-access.js';
import { warnIfKeyOnCommandLine } from './wa-decrypt.js';

export const backupCommand: Command = {
  name: 'backup',
  summary: 'back up files and folders into a repository',
  usage: `Usage: chatsafe backup --repo PATH [--key-file FILE] [--keep-last N] [--json] SOURCE...

Backs up the given files and folders as a new snapshot, storing only what is
new since earlier snapshots. Once the new snapshot is written and verified,
older snapshots beyond the newest N are forgotten and their unused data
removed (default N = 1: the previous backup goes once a new one is safe).

Before anything is written it says what the source is ("WhatsApp Android
database: 8 chats, 62 messages, …"); for a phone export it recognises it also
stores a chat catalog, so \`chats\`, \`messages\`, \`search\` and
\`export-html\` work without restoring. Anything else is backed up as plain files.

Prints the new snapshot's id on stdout; progress goes to stderr on a terminal.

  --wa-key KEY_OR_FILE  the 64-digit key or key file of a WhatsApp .crypt14/.crypt15
                        backup, to build its catalog (or CHATSAFE_WA_KEY)
  --keep-last N  how many snapshots to keep, 1 to 999999 (default 1)
  --json         print a JSON report instead`,
  async run(args: string[], io: CliIO): Promise<number> {
    const { values, positionals } = parseArgs({ args, options: { ...REPO_OPTIONS, 'keep-last': { type: 'string' }, 'wa-key': { type: 'string' } }, allowPositionals: true });
    if (positionals.length === 0) throw new UsageError('Nothing to back up.', 'Name at least one file or folder: chatsafe backup --repo PATH SOURCE...');
    const keepLast = parseCount(values['keep-last'], 'keep-last', 1);
    growHeapsSlowly();
    const repo = await openRepo(values, io);
    const waKeyArg = values['wa-key'] ?? io.env.CHATSAFE_WA_KEY;
    const waKey = waKeyArg ? await (await import('../../core/importers/whatsapp-crypt/index.js')).loadWhatsAppKey(waKeyArg) : undefined;
    if (waKey) warnIfKeyOnCommandLine(io, values['wa-key'] !== undefined, waKey);
    const progress = progressLine(io);
    let result;
    let retention;
    try {
      result = await importAndBackup(repo, {
        sources: positionals,
        signal: io.signal,
        onProgress: progress.listener,
        ...(waKey ? { waKey } : {}),
        onDetected: (reports) => {
          if (!values.json) for (const r of reports) progress.note(r.summary);
        },
      });
      retention = await applyRetention(repo, keepLast, { signal: io.signal, onProgress: progress.listener });
    } finally {
      progress.end();
    }
    const s = result.snapshot.summary;
    if (values.json) {
      printJson(io, {
        snapshot: { id: result.id, shortId: shortId(result.id), time: result.snapshot.time, paths: result.snapshot.paths, summary: s },
        reusedFiles: result.reusedFiles,
        detected: result.detected.map((d) => ({ path: d.path, kind: d.kind, summary: d.summary, problems: d.problems })),
        catalog: result.imported ? { counts: result.imported.counts, unknown: result.imported.unknown, warnings: result.imported.warnings } : null,
        catalogSkipped: result.catalogSkipped,
        skipped: result.skipped,
        forgotten: retention.forgotten.map((f) => f.id),
        pruned: retention.pruned,
      });
      return 0;
    }
    if (io.stderr.isTTY) {
      io.stderr.write(
        `Backed up ${s.files} files (${formatBytes(s.bytes)}); ${formatBytes(s.newBytes)} new, ${formatBytes(s.storedBytes)} stored, in ${(s.durationMs / 1000).toFixed(1)}s.\n`,
      );
      if (retention.forgotten.length > 0) io.stderr.write(`Removed ${retention.forgotten.length} older snapshot(s) (keeping the newest ${keepLast}).\n`);
    }
    for (const skipped of result.skipped) io.stderr.write(`Skipped (not a file, folder or link): ${skipped}\n`);
    if (result.catalogSkipped) io.stderr.write(`Note: ${result.catalogSkipped}.\n`);
    for (const u of result.imported?.unknown ?? []) io.stderr.write(`Not understood and kept aside: ${JSON.stringify(u)}\n`);
    io.stdout.write(`${result.id}\n`);
    return 0;
  },
};
