import type { Command } from '../command.js';
import { detectCommand } from './detect.js';
import { vaultCommand } from './vault.js';
import { waDecryptCommand } from './wa-decrypt.js';

/** Every subcommand, in the order `chatsafe --help` lists them. */
export const COMMANDS: readonly Command[] = [detectCommand, waDecryptCommand, vaultCommand];
