/**
 * Tampering with a `.chatsafe` bundle: a flipped byte in a segment,
 * truncation, swapped segments, appended garbage, a modified cleartext
 * header. `check FILE` and `restore FILE` must both exit 4 and leave nothing
 * half-written (only complete, exact files; no temporary files).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeRun, makeTempDir, runCli, type TempDir } from '../helpers/cli.js';
import { assertOnlyCompleteFiles, assertSameTree, backupOf, chatLikeSpec, digestTree, initRepo, ok, repoArgs, underName, writeTree, type TestRepo, type TreeDigest } from './scenario.js';

/** Segment layout of the bundle format (docs/FORMAT.md): 1 MiB of plaintext plus a 16-byte tag each. */
const SEALED_SEGMENT = 1024 * 1024 + 16;
const MAGIC_BYTES = 16;

let tmp: TempDir;
let repo: TestRepo;
let bundle: string;
let digest: TreeDigest;
let payloadOffset: number;

before(async () => {
  tmp = makeTempDir('bundle-tamper');
  const src = join(tmp.path, 'src');
  writeTree(src, chatLikeSpec(3_500_000), 'bundle');
  digest = underName(digestTree(src), 'src');
  repo = await initRepo(tmp.path);
  await backupOf(repo, [src]);
  bundle = join(tmp.path, 'good.chatsafe');
  await ok(['export', ...repoArgs(repo), 'latest', '--out', bundle]);
  const bytes = readFileSync(bundle);
  payloadOffset = MAGIC_BYTES + 4 + bytes.readUInt32BE(MAGIC_BYTES);
  assert.ok(bytes.length - payloadOffset > 3 * SEALED_SEGMENT, 'the bundle has at least four segments');
});
after(() => tmp?.remove());

let caseNo = 0;

async function expectRejected(mutate: (path: string) => void): Promise<void> {
  const path = join(tmp.path, `case-${++caseNo}.chatsafe`);
  writeFileSync(path, readFileSync(bundle));
  mutate(path);
  const target = join(tmp.path, `target-${caseNo}`);
  const [check, restore] = await Promise.all([
    runCli(['check', path, '--key-file', repo.keyFile]),
    runCli(['restore', path, '--target', target, '--key-file', repo.keyFile]),
  ]);
  assert.equal(check.code, 4, `check: ${describeRun(check)}`);
  assert.ok((check.stdout + check.stderr).includes(path), `check names the bundle: ${describeRun(check)}`);
  assert.equal(restore.code, 4, `restore: ${describeRun(restore)}`);
  assert.ok(restore.stderr.includes(path), `restore names the bundle: ${describeRun(restore)}`);
  let restored: TreeDigest = new Map();
  try {
    restored = digestTree(target);
  } catch {
    // nothing written at all
  }
  const complete = assertOnlyCompleteFiles(restored, digest, 'after a failed bundle restore');
  assert.ok(complete < [...digest.values()].filter((v) => v.startsWith('file ')).length, 'the restore did not complete');
  assert.deepEqual(readdirSync(tmp.path).filter((n) => n.includes('.partial')), [], 'no temporary file beside the bundle');
  rmSync(path);
  rmSync(target, { recursive: true, force: true });
}

test('the untouched bundle checks and restores exactly (the baseline the other cases break)', async () => {
  const target = join(tmp.path, 'target-good');
  const check = await ok(['check', bundle, '--key-file', repo.keyFile]);
  assert.match(check.stdout, /No problems/);
  await ok(['restore', bundle, '--target', target, '--key-file', repo.keyFile]);
  assertSameTree(digestTree(target), digest, 'the restored bundle');
  rmSync(target, { recursive: true });
});

test('a flipped byte in a segment is detected: check and restore exit 4, nothing half-written', async () => {
  await expectRejected((p) => {
    const b = readFileSync(p);
    const at = payloadOffset + SEALED_SEGMENT + 4321; // inside segment 1
    b[at] = b[at]! ^ 0x40;
    writeFileSync(p, b);
  });
});

test('a bundle truncated inside a segment is detected', async () => {
  await expectRejected((p) => truncateSync(p, payloadOffset + 2 * SEALED_SEGMENT + 1000));
});

test('a bundle truncated exactly at a segment boundary (last segments dropped) is detected', async () => {
  await expectRejected((p) => truncateSync(p, payloadOffset + 2 * SEALED_SEGMENT));
});

test('two swapped segments are detected', async () => {
  await expectRejected((p) => {
    const b = readFileSync(p);
    const s1 = payloadOffset + SEALED_SEGMENT;
    const s2 = payloadOffset + 2 * SEALED_SEGMENT;
    const one = Buffer.from(b.subarray(s1, s2));
    b.copy(b, s1, s2, s2 + SEALED_SEGMENT);
    one.copy(b, s2);
    writeFileSync(p, b);
  });
});

test('garbage appended after the last segment is detected', async () => {
  await expectRejected((p) => appendFileSync(p, Buffer.from('appended garbage that is not part of the bundle')));
});

test('a modified cleartext header is detected (the header is bound into every segment)', async () => {
  await expectRejected((p) => {
    const b = readFileSync(p);
    const header = b.subarray(MAGIC_BYTES + 4, payloadOffset).toString('utf8');
    const at = header.indexOf('"files":') + '"files":'.length;
    assert.ok(at > 8, 'the header lists a file count');
    // one digit of the file count changed; same length, still valid JSON
    const digit = header[at]!;
    const edited = header.slice(0, at) + (digit === '9' ? '8' : String(Number(digit) + 1)) + header.slice(at + 1);
    Buffer.from(edited, 'utf8').copy(b, MAGIC_BYTES + 4);
    writeFileSync(p, b);
  });
});
