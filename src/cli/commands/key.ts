import { parseArgs } from '../args.js';
import { UsageError } from '../../core/errors.js';
import { RootKey } from '../../core/keys/root-key.js';
import type { Command } from '../command.js';
import { printJson, type CliIO } from '../io.js';
import { openBackend, openRepo, REPO_OPTIONS, requireRepoAddress } from '../repo-access.js';
import { getNewPassword, getPassword } from '../credentials.js';
import { vaultOptions, vaultUrlFrom } from '../vault-access.js';
import { readHeader } from '../../core/repo/repository.js';
import type { KeySlot } from '../../core/keys/slots.js';
import { writeKeyFile } from './init.js';

export const keyCommand: Command = {
  name: 'key',
  summary: 'list, add or remove key slots (no data is rewritten)',
  usage: `Usage: chatsafe key list   --repo PATH [--key-file FILE | --password] [--json]
       chatsafe key add    --repo PATH [--key-file FILE | --password] [--new-key-file FILE] [--json]
       chatsafe key add    --repo PATH [--key-file FILE | --password] --new-password [--vault URL] [--json]
       chatsafe key passwd --repo PATH [--json]
       chatsafe key remove --repo PATH [--key-file FILE | --password] SLOT_ID [--json]

The data is sealed under a master key that each slot holds, wrapped by one
64-digit key (or one password). Adding or removing a slot never touches the
data. \`add\` makes a new random 64-digit key and prints it once (or writes it
to --new-key-file); with --new-password it adds a password slot instead, its
key kept by the key vault (new password from a prompt or CHATSAFE_NEW_PASSWORD).
\`passwd\` changes the password of the password slot (old password from a prompt
or CHATSAFE_PASSWORD, new one from a prompt or CHATSAFE_NEW_PASSWORD); no
backup is touched. \`remove\` refuses to remove the last slot; \`list\` shows a
slot that cannot be read (damaged) as unreadable, and \`remove\` deletes it.`,
  async run(args: string[], io: CliIO): Promise<number> {
    const [sub, ...rest] = args;
    const { values, positionals } = parseArgs({
      args: rest,
      options: { ...REPO_OPTIONS, 'new-key-file': { type: 'string' }, 'new-password': { type: 'boolean', default: false }, vault: { type: 'string' } },
      allowPositionals: true,
    });
    if (sub === 'list') {
      const repo = await openRepo(values, io);
      const { slots, unreadableSlots } = await readHeader(repo.backend);
      if (values.json) {
        printJson(io, [
          ...slots.map((s) => ({ id: s.id, kind: s.kind, created: s.created, ...(s.kind === 'password' ? { vault: s.vault } : {}) })),
          ...unreadableSlots.map((u) => ({ id: u.id, kind: 'unreadable', problem: u.problem })),
        ]);
      } else {
        for (const s of slots) io.stdout.write(`${s.id}  ${s.kind.padEnd(8)}  ${s.created}${s.kind === 'password' ? `  ${s.vault.url}` : ''}\n`);
        for (const u of unreadableSlots) io.stdout.write(`${u.id}  unreadable: ${u.problem} (\`chatsafe key remove ${u.id.slice(0, 8)}\` deletes it)\n`);
      }
      return 0;
    }
    if (sub === 'add' && values['new-password']) {
      const repo = await openRepo(values, io);
      const password = await getNewPassword(io, 'CHATSAFE_NEW_PASSWORD');
      const { storeKeyInVault } = await import('../../core/vault/client.js');
      const key = RootKey.generate();
      const account = await key.use((bytes) => storeKeyInVault(vaultUrlFrom(values.vault, io), password, Buffer.from(bytes), vaultOptions(io)));
      const slot = await repo.addSlot(key, { url: account.vaultUrl, accountId: account.accountId });
      if (values.json) printJson(io, { added: { id: slot.id, kind: slot.kind, vault: account.vaultUrl } });
      else io.stdout.write(`Added password slot ${slot.id}; its key is kept by the vault at ${account.vaultUrl}.\n`);
      return 0;
    }
    if (sub === 'passwd') {
      const backend = await openBackend(requireRepoAddress(values, io), io);
      const { slots } = await readHeader(backend);
      const slot = slots.find((s): s is Extract<KeySlot, { kind: 'password' }> => s.kind === 'password');
      if (!slot) throw new UsageError('This repository has no password slot.', 'Add one with `chatsafe key add --new-password`.');
      const oldPassword = await getPassword(io, 'Current password: ');
      const newPassword = await getNewPassword(io, 'CHATSAFE_NEW_PASSWORD');
      const { changeVaultPassword } = await import('../../core/vault/client.js');
      await changeVaultPassword({ vaultUrl: slot.vault.url, accountId: slot.vault.accountId }, oldPassword, newPassword, vaultOptions(io));
      if (values.json) printJson(io, { passwordChanged: { slot: slot.id } });
      else io.stdout.write('Password changed. Your backups are unchanged and open with the new password.\n');
      return 0;
    }
    if (sub === 'add') {
      if (values['new-key-file'] === '') throw new UsageError('--new-key-file needs a file name.', 'Pass --new-key-file FILE, or leave it out to have the new key printed.');
      const repo = await openRepo(values, io);
      const key = RootKey.generate();
      if (values['new-key-file']) await writeKeyFile(values['new-key-file'], key);
      const slot = await repo.addSlot(key);
      // The new key is shown only this once: in the JSON document too, unless it went to a file.
      if (values.json) printJson(io, { added: { id: slot.id, kind: slot.kind, ...(values['new-key-file'] ? { keyFile: values['new-key-file'] } : { key: key.toDisplayString() }) } });
      else if (values['new-key-file']) io.stdout.write(`Added key slot ${slot.id}; its key is in ${values['new-key-file']}.\n`);
      else io.stdout.write(`Added key slot ${slot.id}. Its 64-digit key:\n\n    ${key.toDisplayString()}\n\nWrite it down now; it is shown only this once.\n`);
      return 0;
    }
    if (sub === 'remove') {
      if (positionals.length !== 1) throw new UsageError('Which slot? Give its id (see `chatsafe key list`).');
      const repo = await openRepo(values, io);
      const removed = await repo.removeSlot(positionals[0]!);
      if (values.json) printJson(io, { removed });
      else io.stdout.write(`Removed key slot ${removed.id} (${removed.kind}).\n`);
      return 0;
    }
    throw new UsageError(sub ? `Unknown key command "${sub}".` : 'Which key command?', 'Use `chatsafe key list`, `key add`, `key passwd` or `key remove`.');
  },
};
