import type { Command } from '../command.js';

/**
 * Every subcommand, in the order `chatsafe --help` lists them. Modules load
 * only when their command runs: the vault server and the cloud clients are
 * large, and a backup should not pay for them in time or memory.
 */
export interface CommandEntry {
  readonly name: string;
  readonly summary: string;
  readonly load: () => Promise<Command>;
}

export const COMMANDS: readonly CommandEntry[] = [
  { name: 'init', summary: 'create an encrypted repository and its 64-digit key', load: async () => (await import('./init.js')).initCommand },
  { name: 'detect', summary: 'say what a file or folder is (which phone export) and what is in it', load: async () => (await import('./detect.js')).detectCommand },
  { name: 'backup', summary: 'back up files and folders into a repository', load: async () => (await import('./backup.js')).backupCommand },
  { name: 'snapshots', summary: 'list the snapshots in a repository', load: async () => (await import('./snapshots.js')).snapshotsCommand },
  { name: 'restore', summary: 'restore a snapshot (or a .chatsafe bundle) into a folder', load: async () => (await import('./restore.js')).restoreCommand },
  { name: 'check', summary: 'verify a repository or bundle; --read-data decrypts everything', load: async () => (await import('./check.js')).checkCommand },
  { name: 'inspect', summary: 'show what a repository or bundle says about itself, without any key', load: async () => (await import('./inspect.js')).inspectCommand },
  { name: 'forget', summary: 'forget all but the newest N snapshots (then run prune)', load: async () => (await import('./forget.js')).forgetCommand },
  { name: 'prune', summary: 'remove data no snapshot uses any more', load: async () => (await import('./prune.js')).pruneCommand },
  { name: 'chats', summary: 'list the chats in a backup', load: async () => (await import('./catalog-commands.js')).chatsCommand },
  { name: 'messages', summary: 'show the messages of one chat in a backup', load: async () => (await import('./catalog-commands.js')).messagesCommand },
  { name: 'search', summary: 'search all messages of a backup', load: async () => (await import('./catalog-commands.js')).searchCommand },
  { name: 'export-html', summary: 'write every chat of a backup as offline HTML pages with their media', load: async () => (await import('./catalog-commands.js')).exportHtmlCommand },
  { name: 'export', summary: 'write one snapshot as a single encrypted .chatsafe file', load: async () => (await import('./export.js')).exportCommand },
  { name: 'key', summary: 'list, add or remove key slots (no data is rewritten)', load: async () => (await import('./key.js')).keyCommand },
  { name: 'unlock', summary: 'remove locks left by a crashed process', load: async () => (await import('./unlock.js')).unlockCommand },
  { name: 'wa-decrypt', summary: 'decrypt a WhatsApp .crypt12/.crypt14/.crypt15 backup with its key', load: async () => (await import('./wa-decrypt.js')).waDecryptCommand },
  { name: 'vault', summary: 'run the password key vault server (vault serve)', load: async () => (await import('./vault.js')).vaultCommand },
  { name: 'ui', summary: 'open the app in a web browser on this computer (local web mode)', load: async () => (await import('./ui.js')).uiCommand },
];
