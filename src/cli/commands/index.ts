import type { Command } from '../command.js';
import { backupCommand } from './backup.js';
import { detectCommand } from './detect.js';
import { initCommand } from './init.js';
import { restoreCommand } from './restore.js';
import { snapshotsCommand } from './snapshots.js';
import { vaultCommand } from './vault.js';
import { waDecryptCommand } from './wa-decrypt.js';

/** Every subcommand, in the order `chatsafe --help` lists them. */
export const COMMANDS: readonly Command[] = [initCommand, detectCommand, backupCommand, snapshotsCommand, restoreCommand, waDecryptCommand, vaultCommand];
