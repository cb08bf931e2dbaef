import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { backup } from '../../../src/core/backup/backup.js';
import { scanSources } from '../../../src/core/backup/scan.js';
import { restore } from '../../../src/core/restore/restore.js';
import { repoWithSource } from '../../helpers/repo.js';

/**
 * The fingerprint as it is defined (snapshots store it as `catalogSource`, and a catalog and tree
 * are reused only when it matches): pre-order, names in code-unit order, each line
 * `path \0 kind \0 permission bits \0 size \0 mtimeNs \0 ctimeNs \0 inode`, paths starting at the
 * root's own path joined with its name. Written here from that definition, with nothing of scan.ts.
 */
function fingerprintOracle(roots: string[]): string {
  const h = createHash('sha256');
  const visit = (path: string, printed: string) => {
    const st = lstatSync(path, { bigint: true });
    const kind = st.isFile() ? 'file' : st.isSymbolicLink() ? 'symlink' : st.isDirectory() ? 'dir' : 'other';
    if (kind === 'other') {
      h.update(`${printed}\0other\n`);
      return;
    }
    h.update(`${printed}\0${kind}\0${st.mode & 0o7777n}\0${st.size}\0${st.mtimeNs}\0${st.ctimeNs}\0${st.ino}\n`);
    if (kind === 'dir') for (const name of readdirSync(path).sort()) visit(join(path, name), `${printed}/${name}`);
  };
  for (const r of roots) visit(r, `${r}/${r.split('/').pop()}`);
  return h.digest('hex');
}

test('a scan counts files, folders and bytes, keeps each folder\'s totals, and fingerprints every entry as defined', async (t) => {
  const { src } = await repoWithSource(t, { 'top.txt': 'x'.repeat(10) });
  mkdirSync(join(src, 'Media', 'Bilder – ä'), { recursive: true });
  mkdirSync(join(src, 'Media', 'Empty'));
  writeFileSync(join(src, 'Media', 'Bilder – ä', 'IMG 1.jpg'), Buffer.alloc(1000, 1));
  writeFileSync(join(src, 'Media', 'Bilder – ä', 'IMG 2.jpg'), Buffer.alloc(2000, 2));
  writeFileSync(join(src, 'Media', 'b.opus'), Buffer.alloc(300, 3));
  symlinkSync('/etc', join(src, 'Media', 'link'));
  execFileSync('mkfifo', [join(src, 'pipe')]);

  const scan = await scanSources([src]);
  assert.equal(scan.files, 4);
  assert.equal(scan.dirs, 4, 'the source and its three folders');
  assert.equal(scan.bytes, 3310);
  assert.deepEqual(scan.skipped, [join(src, 'pipe')]);
  assert.deepEqual([...scan.folders].sort(), [
    [src, { files: 4, bytes: 3310 }],
    [join(src, 'Media'), { files: 3, bytes: 3300 }],
    [join(src, 'Media', 'Bilder – ä'), { files: 2, bytes: 3000 }],
    [join(src, 'Media', 'Empty'), { files: 0, bytes: 0 }],
  ].sort());
  assert.equal(scan.fingerprint, fingerprintOracle([src]));

  const again = await scanSources([src]);
  assert.equal(again.fingerprint, scan.fingerprint, 'nothing changed, the same fingerprint');
  utimesSync(join(src, 'Media', 'b.opus'), new Date(2001, 1, 1), new Date(2001, 1, 1));
  const touched = await scanSources([src]);
  assert.notEqual(touched.fingerprint, scan.fingerprint, 'a file deep down touched');
  assert.equal(touched.fingerprint, fingerprintOracle([src]));
});

test('a backup lists each folder again as it reaches it: what changed after the scan is backed up as it is then', async (t) => {
  const { dir, src, repo } = await repoWithSource(t, { 'keep.txt': 'keep', 'gone.txt': 'gone' });
  mkdirSync(join(src, 'sub'));
  writeFileSync(join(src, 'sub', 'old.bin'), Buffer.alloc(5000, 9));
  const scan = await scanSources([src]);
  rmSync(join(src, 'gone.txt'));
  writeFileSync(join(src, 'sub', 'new.bin'), 'arrived after the scan');

  await backup(repo, { sources: [src], scan });
  const target = join(dir, 'restored');
  await restore(repo, { snapshot: await repo.findSnapshot('latest'), target });
  assert.deepEqual(readdirSync(join(target, 'src')).sort(), ['keep.txt', 'sub']);
  assert.deepEqual(readdirSync(join(target, 'src', 'sub')).sort(), ['new.bin', 'old.bin']);
  assert.equal(readFileSync(join(target, 'src', 'sub', 'new.bin'), 'utf8'), 'arrived after the scan');
});
