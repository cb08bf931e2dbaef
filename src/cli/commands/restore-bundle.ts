import { restoreBundle } from '../../core/bundle/restore-bundle.js';
import { getCredential } from '../credentials.js';
import { formatBytes } from '../format.js';
import { printJson, type CliIO } from '../io.js';
import { progressLine } from '../progress-line.js';
import type { RepoArgs } from '../repo-access.js';
import { cliVaultUnlocker } from '../vault-access.js';

export async function restoreBundleCommand(bundle: string, values: RepoArgs & { json?: boolean; overwrite?: boolean }, target: string, io: CliIO): Promise<number> {
  const credential = await getCredential({ keyFile: values['key-file'], password: values.password }, io);
  const progress = progressLine(io);
  let result;
  try {
    result = await restoreBundle(bundle, credential, target, { overwrite: values.overwrite, signal: io.signal, onProgress: progress.listener, vaultUnlocker: cliVaultUnlocker(io) });
  } finally {
    progress.end();
  }
  if (values.json) printJson(io, { bundle, target, ...result });
  else io.stdout.write(`Restored ${result.files} files (${formatBytes(result.bytes)}) from ${bundle} into ${target}.\n`);
  return 0;
}
