/**
 * `chatsafe detect PATH [--json]`: what a file or folder is and what is in
 * it, before anything is written. Reads only; never writes near the input.
 */
import { existsSync } from 'node:fs';
import { parseArgs } from '../args.js';
import { UsageError } from '../../core/errors.js';
import { detectSource } from '../../core/importers/detect.js';
import type { Command } from '../command.js';
import { printJson, type CliIO } from '../io.js';

export const detectCommand: Command = {
  name: 'detect',
  summary: 'say what a phone export is and what is in it',
  usage: `Usage: chatsafe detect PATH [--json]

Recognises WhatsApp Android folders and databases (msgstore.db, wa.db, Media/),
encrypted WhatsApp backups (.crypt12/.crypt14/.crypt15), WhatsApp for iPhone
(ChatStorage.sqlite, or an unencrypted iTunes/Finder backup folder), WhatsApp
"Export chat" text (.txt or .zip) and Telegram Desktop JSON exports, and counts
their chats, messages and media. Unknown input is named as unknown; it can
still be backed up as plain files.

Exit status is 0 whether the input was recognised or not, 2 when PATH does not exist.

Options:
  --json   print the full detection report as JSON`,
  async run(args: string[], io: CliIO): Promise<number> {
    const { values, positionals } = parseArgs({ args, options: { json: { type: 'boolean' } }, allowPositionals: true, strict: true });
    if (positionals.length !== 1) throw new UsageError('detect takes exactly one PATH.', 'Run `chatsafe detect --help` for usage.');
    const path = positionals[0]!;
    if (!existsSync(path)) throw new UsageError(`${path}: no such file or folder.`, 'Check the path; for a WhatsApp folder give the folder that holds Databases/ and Media/.');
    const report = await detectSource(path, { signal: io.signal });
    if (values.json) {
      printJson(io, report);
      return 0;
    }
    io.stdout.write(`${report.summary}\n`);
    for (const [what, file] of Object.entries(report.keyFiles)) io.stdout.write(`  ${what}: ${file}\n`);
    for (const [k, v] of Object.entries(report.details)) io.stdout.write(`  ${k}: ${String(v)}\n`);
    for (const p of report.problems) io.stdout.write(`  ! ${p}\n`);
    return 0;
  },
};
