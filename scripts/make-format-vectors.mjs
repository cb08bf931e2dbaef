#!/usr/bin/env node
// Writes docs/vectors/: a tiny repository and bundle made with a known key,
// and the values an implementation must derive from them. Run once per format
// version (`npm run build && node scripts/make-format-vectors.mjs`); the
// committed output is checked by test/core/format-vectors.test.ts.
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, utimesSync, chmodSync, symlinkSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RootKey } from '../dist/src/core/keys/root-key.js';
import { Repository } from '../dist/src/core/repo/repository.js';
import { LocalFolderBackend } from '../dist/src/core/storage/local-folder.js';
import { backup } from '../dist/src/core/backup/backup.js';
import { exportBundle } from '../dist/src/core/bundle/export.js';
import { gearTable } from '../dist/src/core/chunking/fastcdc.js';
import { LIST_IDS } from '../dist/src/core/repo/tree.js';

const out = 'docs/vectors';
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const KEY = 'C0FFEE00112233445566778899AABBCCDDEEFF0123456789ABCDEF0FEDCBA987';

const src = join(mkdtempSync(join(tmpdir(), 'vec-')), 'chats');
mkdirSync(join(src, 'Media'), { recursive: true });
writeFileSync(join(src, 'hello.txt'), 'Hello, Chatsafe!\n');
writeFileSync(join(src, 'Media', 'Gespräch 🙂.txt'), 'unicode name\n'.repeat(100));
// 600 KB of deterministic, incompressible bytes: two content-defined chunks at least
const big = Buffer.alloc(600 * 1024);
let x = 1;
for (let i = 0; i < big.length; i++) {
  x = (x * 1103515245 + 12345) >>> 0;
  big[i] = x >>> 24;
}
writeFileSync(join(src, 'Media', 'noise.bin'), big);
symlinkSync('hello.txt', join(src, 'link-to-hello'));
chmodSync(join(src, 'hello.txt'), 0o640);
// A SQLite database of LIST_IDS + 1 pages, stored page by page, so its ids go to two chunk lists
// (FORMAT.md §8): a header page, two distinct pages, and empty pages, which are all one chunk.
mkdirSync(join(src, 'Databases'));
const PAGE = 4096;
const db = Buffer.alloc((LIST_IDS + 1) * PAGE);
db.write('SQLite format 3\0', 0, 'latin1');
db.writeUInt16BE(PAGE, 16);
db.fill('page one', PAGE, 2 * PAGE);
db.fill('the last page', LIST_IDS * PAGE);
writeFileSync(join(src, 'Databases', 'msgstore.db'), db);
const FILES = ['hello.txt', 'Media/Gespräch 🙂.txt', 'Media/noise.bin', 'Databases/msgstore.db'];
for (const p of FILES) utimesSync(join(src, p), 1700000000, 1700000000);

const repoDir = join(out, 'repo');
const key = RootKey.parse(KEY);
const repo = await Repository.init(new LocalFolderBackend(repoDir), key);
const result = await backup(repo, { sources: [src] });
await exportBundle(repo, await repo.findSnapshot('latest'), join(out, 'bundle.chatsafe'));

const mk = repo.masterKeyForBundle();
const files = {};
for (const p of FILES) {
  files[`chats/${p}`] = createHash('sha256').update(readFileSync(join(src, p))).digest('hex');
}
const vectors = {
  key: KEY,
  masterKey: mk.toString('hex'),
  repositoryId: repo.config.id,
  subkeys: {
    data: repo.keys.data.toString('hex'),
    meta: repo.keys.meta.toString('hex'),
    blobId: repo.keys.blobId.toString('hex'),
    chunker: repo.keys.chunker.toString('hex'),
  },
  gearFirst8: [...gearTable(repo.keys.chunker).slice(0, 8)],
  snapshot: result.id,
  files,
  symlinks: { 'chats/link-to-hello': 'hello.txt' },
  chunkListed: { path: 'chats/Databases/msgstore.db', chunks: LIST_IDS + 1, lists: 2 },
  modes: { 'chats/hello.txt': 0o640 },
  mtimeSeconds: 1700000000,
};
writeFileSync(join(out, 'vectors.json'), `${JSON.stringify(vectors, null, 2)}\n`);
rmSync(src, { recursive: true, force: true });
console.log(`wrote ${out}`);
