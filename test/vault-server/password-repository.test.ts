/**
 * Password mode end to end: K registered in a real vault process, a
 * repository whose only slot is a password slot, a backup, and a restore
 * that gets K back from the vault with the password.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { backup } from '../../src/core/backup/backup.js';
import { restore } from '../../src/core/restore/restore.js';
import { Repository, type VaultUnlocker } from '../../src/core/repo/repository.js';
import { RootKey } from '../../src/core/keys/root-key.js';
import { LocalFolderBackend } from '../../src/core/storage/local-folder.js';
import { fetchKeyFromVault, storeKeyInVault } from '../../src/core/vault/client.js';
import { WrongKeyError } from '../../src/core/errors.js';
import { filesUnder, Services, SKIP_HSM, type VaultNode } from './services.js';

const OPTS = { testOnlyWeakKeyStretching: true };
const PASSWORD = 'my chats are my business';

let svc: Services;
let node: VaultNode;

before(async () => {
  if (SKIP_HSM) return;
  svc = new Services();
  node = await svc.startNode(join(svc.dir, 'vault.db'));
});
after(async () => {
  await svc?.stop();
});

const unlocker: VaultUnlocker = async (slot, password) => RootKey.fromBytes(await fetchKeyFromVault({ vaultUrl: slot.vault.url, accountId: slot.vault.accountId }, password, OPTS));

test('register, back up, restore with the password through the vault; a wrong password counts down', { skip: SKIP_HSM }, async () => {
  const source = join(svc.dir, 'export');
  mkdirSync(join(source, 'Media'), { recursive: true });
  const db = randomBytes(300_000);
  writeFileSync(join(source, 'msgstore.db'), db);
  const photo = randomBytes(50_000);
  writeFileSync(join(source, 'Media', 'photo.jpg'), photo);

  const k = RootKey.generate();
  const account = await k.use((bytes) => storeKeyInVault(node.url, PASSWORD, Buffer.from(bytes), OPTS));
  const repoDir = join(svc.dir, 'repo');
  mkdirSync(repoDir);
  const repo = await Repository.init(new LocalFolderBackend(repoDir), k, { url: account.vaultUrl, accountId: account.accountId });
  await backup(repo, { sources: [source] });

  await assert.rejects(Repository.open(new LocalFolderBackend(repoDir), { kind: 'password', password: 'not my password at all' }, unlocker), (e) => e instanceof WrongKeyError && e.attemptsLeft === 9);
  const reopened = await Repository.open(new LocalFolderBackend(repoDir), { kind: 'password', password: PASSWORD }, unlocker);
  const [snapshot] = await reopened.listSnapshots();
  assert.ok(snapshot);
  const target = join(svc.dir, 'restored');
  await restore(reopened, { snapshot, target });
  // Wherever the snapshot places the source folder, the restored files are byte for byte the originals.
  const files = filesUnder(target);
  const find = (name: string) => files.find((f) => f.endsWith(name));
  assert.equal(files.length, 2);
  const dbBytes = readFileSync(find('msgstore.db')!);
  assert.ok(readFileSync(find(join('Media', 'photo.jpg'))!).equals(photo));
  assert.ok(dbBytes.equals(db), 'msgstore.db restored byte for byte');
});
