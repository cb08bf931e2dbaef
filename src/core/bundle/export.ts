/**
 * Writes one snapshot as a `.chatsafe` bundle: the manifest (every entry's
 * path and metadata) first, so a restore can check the target before writing
 * anything, then each file's content as blocks (as many of its chunks as were
 * read and opened together, zstd where it shrinks), then the catalog, then an
 * end record. Written to a temporary name and renamed when complete.
 */
import { constants as fsc, promises as fs } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { hkdf, LABELS } from '../crypto/subkeys.js';
import { ChatsafeError, IntegrityError, throwIfCancelled } from '../errors.js';
import { worthCompressing } from '../chunking/file-chunker.js';
import type { ChunkList } from '../repo/chunk-list.js';
import { ProgressMeter, type ProgressListener } from '../jobs/progress.js';
import { FLAG_STORED, maybeCompressView } from '../repo/compression.js';
import { withLock } from '../repo/lock.js';
import type { Repository } from '../repo/repository.js';
import type { SnapshotRecord } from '../repo/snapshot.js';
import { ChunkPlaces } from '../restore/chunk-places.js';
import { withChunks } from '../restore/chunk-stream.js';
import { planSnapshotTree, type PlanItem } from '../restore/restore.js';
import { assertReplaceableFile, outputFileError } from '../output-path.js';
import { APP_VERSION } from '../version.js';
import { encodeHeader, RECORD, type BundleEntry, type BundleHeader, type Manifest } from './format.js';
import { SegmentSealer } from './stream-aead.js';

export interface ExportOptions {
  readonly overwrite?: boolean;
  readonly signal?: AbortSignal;
  readonly onProgress?: ProgressListener;
}

export async function exportBundle(repo: Repository, snap: SnapshotRecord, outPath: string, opts: ExportOptions = {}): Promise<{ bytes: number; files: number }> {
  return withLock(repo, false, () => exportLocked(repo, snap, outPath, opts));
}

async function exportLocked(repo: Repository, snap: SnapshotRecord, outPath: string, opts: ExportOptions): Promise<{ bytes: number; files: number }> {
  await assertReplaceableFile(outPath);
  if (!opts.overwrite && (await fs.lstat(outPath).catch(() => null))) {
    throw new ChatsafeError('conflict', `${outPath} already exists.`, 'Choose another file name, or add --overwrite.');
  }
  const index = await repo.loadIndex();
  const plan: PlanItem[] = [];
  await planSnapshotTree(repo, index, snap.snapshot.tree, plan, opts.signal);
  repo.forgetTreeReads();
  const entries: BundleEntry[] = plan.map((p) => {
    if (p.type === 'file') return { path: p.relPath, type: 'file', mode: p.mode, mtimeNs: p.mtimeNs, size: p.size };
    if (p.type === 'dir') return { path: p.relPath, type: 'dir', mode: p.mode, mtimeNs: p.mtimeNs };
    return { path: p.relPath, type: 'symlink', mode: p.mode, mtimeNs: p.mtimeNs, target: p.target };
  });
  const files = plan.filter((p) => p.type === 'file');
  const catalog = snap.snapshot.catalog;
  const contents: ReadonlyArray<{ readonly content: ChunkList; readonly size: number }> = catalog ? [...files, catalog] : files;
  const totalBytes = contents.reduce((n, c) => n + c.size, 0);
  // Where every chunk lies, found before anything is written; the index is not needed after that.
  const places = ChunkPlaces.resolve(contents, index);
  repo.forgetIndex();

  const salt = randomBytes(32);
  const header: BundleHeader = {
    format: 'chatsafe-bundle',
    version: 1,
    created: new Date().toISOString(),
    appVersion: APP_VERSION,
    repository: (await repo.backend.read('config', 'config')).toString('base64'),
    slots: await repo.listSlots(),
    salt: salt.toString('base64'),
    noncePrefix: randomBytes(7).toString('base64'),
    files: files.length,
    bytes: totalBytes,
    snapshotTime: snap.snapshot.time,
  };
  const headerBytes = encodeHeader(header);
  const aad = createHash('sha256').update(headerBytes).digest();
  const key = hkdf(repo.masterKeyForBundle(), salt, LABELS.bundle);
  const sealer = new SegmentSealer(key, Buffer.from(header.noncePrefix, 'base64'), aad);

  const tmp = `${outPath}.partial-${randomBytes(4).toString('hex')}`;
  const fh = await fs.open(tmp, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL, 0o600).catch((e: unknown) => {
    throw outputFileError(e, outPath);
  });
  const meter = new ProgressMeter(opts.onProgress, 'exporting', totalBytes, files.length);
  let written = 0;
  // One call for what a step sealed (pieces of 64 KiB and tags), not a thread-pool round trip for each.
  const out = async (parts: Buffer[]) => {
    if (parts.length === 0) return;
    const { bytesWritten } = await fh.writev(parts);
    written += bytesWritten;
  };
  try {
    await out([headerBytes]);
    const manifest: Manifest = { snapshotId: snap.id, snapshot: snap.snapshot, entries, catalogSize: catalog?.size ?? null };
    await out(sealer.push(...record(RECORD.manifest, Buffer.from(JSON.stringify(manifest), 'utf8'))));
    await withChunks(repo, places, opts.signal, async (chunks) => {
      for (const c of contents) {
        throwIfCancelled(opts.signal);
        let compress: boolean | null = null;
        let n = 0;
        // The chunks of a batch that are this file's, as one block.
        for await (const data of chunks.pieces(c.content.length)) {
          compress ??= worthCompressing(data);
          const { flag, body } = compress ? maybeCompressView(data) : { flag: FLAG_STORED, body: data };
          await out(sealer.push(blockHeader(data.length, body.length, flag), body));
          n += data.length;
          meter.add(data.length);
        }
        if (n !== c.size) throw new IntegrityError(`snapshot ${snap.id.slice(0, 8)}`, `a file has ${n} bytes, the snapshot records ${c.size}`);
        meter.add(0, 1);
      }
    });
    const end = Buffer.alloc(4);
    end.writeUInt32BE(entries.length);
    await out(sealer.push(...record(RECORD.end, end)));
    await out(sealer.final());
    await fh.sync();
    await fh.close();
    // Again: an export takes minutes, and something else may have taken the name meanwhile.
    await assertReplaceableFile(outPath);
    await fs.rename(tmp, outPath);
    meter.done();
    return { bytes: written, files: files.length };
  } catch (e) {
    await fh.close().catch(() => undefined);
    await fs.rm(tmp, { force: true });
    throw e;
  } finally {
    key.fill(0);
  }
}

/** A record: its type, its length and its body. */
function record(type: number, body: Buffer): [Buffer, Buffer] {
  const h = Buffer.alloc(5);
  h[0] = type;
  h.writeUInt32BE(body.length, 1);
  return [h, body];
}

/** A content block's header: raw length (u32 BE), stored length (u32 BE), flag (0 stored, 1 zstd); the stored bytes follow. */
function blockHeader(raw: number, stored: number, flag: number): Buffer {
  const h = Buffer.alloc(9);
  h.writeUInt32BE(raw, 0);
  h.writeUInt32BE(stored, 4);
  h[8] = flag;
  return h;
}
