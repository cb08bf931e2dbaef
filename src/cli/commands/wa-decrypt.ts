/**
 * `chatsafe wa-decrypt`: turns a WhatsApp .crypt12/.crypt14/.crypt15 backup
 * into the plain msgstore.db, for people who only want their database.
 */
import { stat } from 'node:fs/promises';
import { parseArgs } from '../args.js';
import { ChatsafeError, UsageError } from '../../core/errors.js';
import { decryptWhatsAppBackup, loadWhatsAppKey } from '../../core/importers/whatsapp-crypt/index.js';
import { ProgressMeter } from '../../core/jobs/progress.js';
import { assertReplaceableFile } from '../../core/output-path.js';
import type { Command } from '../command.js';
import { formatBytes } from '../format.js';
import { printJson, type CliIO } from '../io.js';
import { progressLine } from '../progress-line.js';

const KEY_ENV = 'CHATSAFE_WA_KEY';

export const waDecryptCommand: Command = {
  name: 'wa-decrypt',
  summary: 'decrypt a WhatsApp .crypt15/.crypt14/.crypt12 backup into msgstore.db',
  usage: `Usage: chatsafe wa-decrypt FILE --wa-key KEY_OR_KEYFILE --out msgstore.db [--overwrite] [--json]

Decrypts a WhatsApp encrypted backup (msgstore.db.crypt15, .crypt14 or .crypt12)
into the plain SQLite database. Nothing appears at --out until the whole file
has been authenticated (GCM tag, and the MD5 trailer where present).

The key:
  .crypt15   the 64-digit key WhatsApp showed when end-to-end backup was turned
             on (spaces and dashes are fine), or the phone's encrypted_backup.key
  .crypt14/.crypt12   the phone's key file (/data/data/com.whatsapp/files/key)

--wa-key takes a key file path or the 64 digits; instead of --wa-key the key
(or key file path) may be given in the ${KEY_ENV} environment variable, which
other users of this machine cannot see.

Options:
  --wa-key KEY_OR_KEYFILE   the key, or the path of the key file
  --out FILE                where to write the database
  --overwrite               replace --out if it exists (only once decryption succeeded;
                            only a regular file is ever replaced)
  --json                    print the result as JSON`,

  async run(args: string[], io: CliIO): Promise<number> {
    const { values, positionals } = parseArgs({
      args,
      options: {
        'wa-key': { type: 'string' },
        out: { type: 'string' },
        overwrite: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
      },
      allowPositionals: true,
    });
    const input = positionals[0];
    if (input === undefined) throw new UsageError('Which backup? Give the .crypt15/.crypt14/.crypt12 file.', 'Run `chatsafe wa-decrypt --help` for usage.');
    if (positionals.length > 1) throw new UsageError(`Unexpected argument "${positionals[1]}": give one backup file.`, 'Run `chatsafe wa-decrypt --help` for usage.');
    const out = values.out;
    if (!out) throw new UsageError('Where to? Pass --out msgstore.db.', 'Run `chatsafe wa-decrypt --help` for usage.');

    const keyArg = values['wa-key'] ?? io.env[KEY_ENV];
    if (keyArg === undefined || keyArg.trim() === '') {
      throw new UsageError(`No key given: pass --wa-key KEY_OR_KEYFILE or set ${KEY_ENV}.`, 'For .crypt15 that is the 64-digit key or encrypted_backup.key; for .crypt14/.crypt12 the phone\'s `key` file.');
    }
    const key = await loadWhatsAppKey(keyArg);
    warnIfKeyOnCommandLine(io, values['wa-key'] !== undefined, key);

    await assertReplaceableFile(out);
    if (!values.overwrite && (await stat(out).catch(() => null))) {
      throw new ChatsafeError('conflict', `${out} already exists.`, 'Choose another --out, or pass --overwrite to replace it once decryption has succeeded.');
    }

    const progress = progressLine(io);
    const meter = new ProgressMeter(progress.listener, 'importing');
    let last = 0;
    let result;
    try {
      result = await decryptWhatsAppBackup(input, key, out, {
        signal: io.signal,
        onProgress: (p) => {
          if (last === 0) meter.setPhase('importing', { bytes: p.bytesTotal });
          meter.add(p.bytesDone - last);
          last = p.bytesDone;
        },
      });
    } finally {
      progress.end();
    }
    if (values.json) printJson(io, { input, out, ...result });
    else io.stdout.write(`Decrypted ${input} (${result.format}, ${formatBytes(result.bytesIn)}) into ${out} (${formatBytes(result.bytesOut)}).\n`);
    return 0;
  },
};

/** A WhatsApp key typed as `--wa-key` is in the process list, which other users of the machine can read. */
export function warnIfKeyOnCommandLine(io: CliIO, fromFlag: boolean, key: { readonly source: string }): void {
  if (fromFlag && key.source === 'typed') {
    io.stderr.write(`warning: a key typed on the command line is visible to other users of this machine; prefer --wa-key KEYFILE or the ${KEY_ENV} environment variable.\n`);
  }
}
