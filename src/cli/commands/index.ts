import type { Command } from '../command.js';
import { backupCommand } from './backup.js';
import { checkCommand } from './check.js';
import { detectCommand } from './detect.js';
import { exportCommand } from './export.js';
import { forgetCommand } from './forget.js';
import { initCommand } from './init.js';
import { inspectCommand } from './inspect.js';
import { keyCommand } from './key.js';
import { pruneCommand } from './prune.js';
import { restoreCommand } from './restore.js';
import { snapshotsCommand } from './snapshots.js';
import { unlockCommand } from './unlock.js';
import { vaultCommand } from './vault.js';
import { waDecryptCommand } from './wa-decrypt.js';

/** Every subcommand, in the order `chatsafe --help` lists them. */
export const COMMANDS: readonly Command[] = [
  initCommand,
  detectCommand,
  backupCommand,
  snapshotsCommand,
  restoreCommand,
  checkCommand,
  inspectCommand,
  forgetCommand,
  pruneCommand,
  exportCommand,
  keyCommand,
  unlockCommand,
  waDecryptCommand,
  vaultCommand,
];
