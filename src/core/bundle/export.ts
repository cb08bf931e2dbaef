/**
 * Writes one snapshot as a `.chatsafe` bundle: the manifest (every entry's
 * path and metadata) first, so a restore can check the target before writing
 * anything, then each file's content as blocks (zstd where it shrinks), then
 * the catalog, then an end record. Written to a temporary name and renamed
 * when complete.
 */
import { objectPath } from '../storage/backend.js';
import { constants as fsc, promises as fs } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { hkdf, LABELS } from '../crypto/subkeys.js';
import { ChatsafeError, IntegrityError, throwIfCancelled } from '../errors.js';
import { worthCompressing } from '../chunking/file-chunker.js';
import { ChunkList } from '../repo/chunk-list.js';
import { CryptoPool } from '../jobs/crypto-pool.js';
import { orderedMap } from '../jobs/ordered-map.js';
import { ProgressMeter, type ProgressListener } from '../jobs/progress.js';
import { maybeCompress } from '../repo/compression.js';
import type { BlobIndex } from '../repo/master-index.js';
import { withLock } from '../repo/lock.js';
import type { Repository } from '../repo/repository.js';
import type { SnapshotRecord } from '../repo/snapshot.js';
import { planTree, type PlanItem } from '../restore/restore.js';
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
  if (!opts.overwrite && (await fs.lstat(outPath).catch(() => null))) {
    throw new ChatsafeError('conflict', `${outPath} already exists.`, 'Choose another file name, or add --overwrite.');
  }
  const index = await repo.loadIndex();
  const plan: PlanItem[] = [];
  await planTree(repo, index, snap.snapshot.tree, '', plan, opts.signal);
  const entries: BundleEntry[] = plan.map((p) => {
    if (p.type === 'file') return { path: p.relPath, type: 'file', mode: p.mode, mtimeNs: p.mtimeNs, size: p.size };
    if (p.type === 'dir') return { path: p.relPath, type: 'dir', mode: p.mode, mtimeNs: p.mtimeNs };
    return { path: p.relPath, type: 'symlink', mode: p.mode, mtimeNs: p.mtimeNs, target: p.target };
  });
  const files = plan.filter((p) => p.type === 'file');
  const totalBytes = files.reduce((n, p) => n + p.size, 0) + (snap.snapshot.catalog?.size ?? 0);

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
  const fh = await fs.open(tmp, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL, 0o600);
  const meter = new ProgressMeter(opts.onProgress, 'exporting', totalBytes, files.length);
  const pool = new CryptoPool(repo.keys);
  let written = 0;
  const out = async (parts: Buffer[]) => {
    for (const p of parts) {
      await fh.write(p);
      written += p.length;
    }
  };
  try {
    await out([headerBytes]);
    const manifest: Manifest = { snapshotId: snap.id, snapshot: snap.snapshot, entries, catalogSize: snap.snapshot.catalog?.size ?? null };
    await out(sealer.push(record(RECORD.manifest, Buffer.from(JSON.stringify(manifest), 'utf8'))));
    const contents: Array<{ ids: ChunkList; size: number }> = files.map((p) => ({ ids: p.content, size: p.size }));
    if (snap.snapshot.catalog) contents.push({ ids: snap.snapshot.catalog.content, size: snap.snapshot.catalog.size });
    for (const c of contents) {
      throwIfCancelled(opts.signal);
      let compress: boolean | null = null;
      let n = 0;
      for await (const plain of orderedMap(c.ids, 4, (id) => readData(repo, index, pool, id))) {
        compress ??= worthCompressing(plain);
        await out(sealer.push(block(plain, compress)));
        n += plain.length;
        meter.add(plain.length);
      }
      if (n !== c.size) throw new IntegrityError(`snapshot ${snap.id.slice(0, 8)}`, `a file has ${n} bytes, the snapshot records ${c.size}`);
      meter.add(0, 1);
    }
    const end = Buffer.alloc(4);
    end.writeUInt32BE(entries.length);
    await out(sealer.push(record(RECORD.end, end)));
    await out([sealer.final()]);
    await fh.sync();
    await fh.close();
    await fs.rename(tmp, outPath);
    meter.done();
    return { bytes: written, files: files.length };
  } catch (e) {
    await fh.close().catch(() => undefined);
    await fs.rm(tmp, { force: true });
    throw e;
  } finally {
    key.fill(0);
    await pool.close();
  }
}

async function readData(repo: Repository, index: BlobIndex, pool: CryptoPool, id: string): Promise<Buffer> {
  const loc = index.get(id);
  if (!loc) throw new IntegrityError(`data blob ${id.slice(0, 16)}`, 'is missing from the index');
  const object = objectPath('data', loc.pack);
  const sealed = await repo.readPack(loc.pack, { offset: loc.offset, length: loc.length });
  return pool.open('data', id, sealed, loc.rawLength, object);
}

function record(type: number, body: Buffer): Buffer {
  const h = Buffer.alloc(5);
  h[0] = type;
  h.writeUInt32BE(body.length, 1);
  return Buffer.concat([h, body]);
}

/** A content block: raw length (u32 BE), stored length (u32 BE), flag (0 stored, 1 zstd), bytes. */
function block(plain: Buffer, compress: boolean): Buffer {
  const { flag, body } = compress ? maybeCompress(plain) : { flag: 0, body: plain };
  const h = Buffer.alloc(9);
  h.writeUInt32BE(plain.length, 0);
  h.writeUInt32BE(body.length, 4);
  h[8] = flag;
  return Buffer.concat([h, body]);
}
