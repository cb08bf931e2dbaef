/**
 * Prune: reclaims the space of data no snapshot uses any more. Crash-safe by
 * ordering: (1) blobs still needed from mostly-unused packs are copied into
 * new packs; (2) one new index file is written for the packs that stay and
 * were listed by the index files being replaced (those that name a pack
 * going away), plus the new packs; it says it supersedes them; (3) only then
 * are those old index files removed; (4) last, unused packs. Killed at any
 * point, every snapshot still restores: until (3) the old index is there and
 * nothing was deleted; after it, the new file and the untouched ones cover
 * everything still needed. Leftover unused packs are collected next time.
 *
 * Index files that name no changed pack stay as they are, so a prune after a
 * small backup writes a small index file instead of the whole index again.
 * Past MAX_INDEX_FILES files (each backup adds some), the smallest are merged
 * into that file too; when it is not known which packs a file lists,
 * everything is.
 */
import { objectPath } from '../storage/backend.js';
import { batchOf } from '../jobs/batch-blobs.js';
import { CryptoPool } from '../jobs/crypto-pool.js';
import { ProgressMeter, type ProgressListener } from '../jobs/progress.js';
import { IntegrityError, throwIfCancelled } from '../errors.js';
import { collectUsage } from '../backup/verify.js';
import { ID_BYTES, shortHex, type BlobKey } from '../crypto/ids.js';
import type { ChunkList } from '../repo/chunk-list.js';
import type { PackRecord } from '../repo/index-file.js';
import type { BlobIndex } from '../repo/master-index.js';
import { PackBuilder } from '../repo/pack.js';
import type { Repository } from '../repo/repository.js';
import { META_LABELS } from '../repo/sealed-json.js';
import { PACK_TARGET_BYTES } from '../backup/blob-saver.js';

/** A pack with more than this share of unused bytes is rewritten. */
const REPACK_UNUSED_FRACTION = 0.2;

/** Beyond this many index files, prune merges the smallest: each is a request when the index is read. */
const MAX_INDEX_FILES = 32;
/**
 * A merge takes the smallest files, at least two, until they hold this many blobs or half as many
 * files are left. The new file is built and later read whole: merging every file of the 3 GiB
 * bench export (220,000 blobs) took the backup whose prune did it from 204 to 332 MiB, and the
 * restore after it from 188 to 226.
 */
const MERGE_BLOBS = 65_536;

export interface PruneResult {
  readonly packsDeleted: number;
  readonly packsRewritten: number;
  readonly bytesFreed: number;
  readonly indexFilesReplaced: number;
}

export interface PruneOptions {
  readonly signal?: AbortSignal;
  readonly onProgress?: ProgressListener;
  /** Test hook: called between the steps, so crash tests can stop at each. */
  readonly onStep?: (step: 'repacked' | 'index-written' | 'old-index-removed' | 'packs-removed') => Promise<void> | void;
}

export async function pruneLocked(repo: Repository, opts: PruneOptions = {}): Promise<PruneResult> {
  const meter = new ProgressMeter(opts.onProgress, 'pruning');
  meter.done();
  const index = await repo.loadIndex();
  // The data blobs the kept snapshots use are marked in the index, a byte a blob (`BlobMarks`).
  const trees = new Set<string>();
  const data = index.newMarks();
  const markAll = (chunks: ChunkList) => {
    const bytes = chunks.bytes();
    for (let at = 0; at < bytes.length; at += ID_BYTES) if (!data.markAt(bytes, at)) throw missingFromIndex(bytes.subarray(at, at + ID_BYTES));
  };
  for (const s of await repo.listSnapshots()) await collectUsage(repo, index, s.snapshot, { trees, data: { addAll: markAll } }, opts.signal);
  const isUsed = (id: string) => data.has(id) || trees.has(id);

  const stored = new Map<string, number>();
  for await (const info of repo.backend.list('data')) stored.set(info.name, info.size);

  // The index resolves each blob to one pack: the bytes each pack serves to the kept snapshots
  // decide its fate, without listing the blobs of every pack.
  const servedBytes = data.bytesByPack();
  for (const id of trees) {
    if (data.has(id)) continue; // the same bytes are a data blob too, counted once
    const loc = index.get(id);
    if (!loc) throw missingFromIndex(id);
    servedBytes.set(loc.pack, (servedBytes.get(loc.pack) ?? 0) + loc.length);
  }
  for (const pack of servedBytes.keys()) {
    if (!stored.has(pack)) throw new IntegrityError(objectPath('data', pack), 'is missing, and snapshots need it', 'Run `chatsafe check` before pruning; pruning now could lose data.');
  }

  const keep: string[] = [];
  const remove: string[] = [];
  const rewrite: string[] = [];
  for (const pack of index.packs.keys()) {
    if (!stored.has(pack)) continue; // index lists a missing pack: check reports it; nothing to reclaim
    const served = servedBytes.get(pack);
    // Measured against the blobs' bytes, not the pack's: the header is no waste, and in a pack of
    // small blobs (directory listings) it is a large share, which made such packs rewritten each time.
    const blobBytes = index.blobBytes(pack)!;
    if (served === undefined) remove.push(pack);
    else if (blobBytes - served > blobBytes * REPACK_UNUSED_FRACTION) rewrite.push(pack);
    else keep.push(pack);
  }
  // Packs no index mentions: debris of interrupted backups (the exclusive lock rules out a running one).
  for (const pack of stored.keys()) if (!index.packs.has(pack)) remove.push(pack);

  // (1) copy still-needed blobs out of packs being rewritten, each pack's authenticated before any is copied
  const newPacks: PackRecord[] = [];
  if (rewrite.length > 0) {
    const moved = new Set<string>();
    const pool = new CryptoPool(repo.keys);
    try {
      let builder = new PackBuilder();
      const flush = async () => {
        if (builder.count === 0) return;
        const { hex, parts } = await pool.sha256(builder.finish(repo.keys.meta));
        await repo.backend.write('data', hex, parts);
        newPacks.push({ id: hex, size: parts.reduce((n, p) => n + p.length, 0), entries: builder.entries });
        builder = new PackBuilder();
      };
      for (const pack of rewrite) {
        throwIfCancelled(opts.signal);
        const object = objectPath('data', pack);
        const bytes = await repo.backend.read('data', pack);
        const read = bytes.length;
        // The blobs this pack serves (a copy of one held in another pack stays behind), each once.
        const moving = index.blobsOfPack(pack)!.filter((b) => {
          if (!isUsed(b.id) || moved.has(b.id) || index.packOf(b.id) !== pack) return false;
          moved.add(b.id);
          return true;
        });
        const sealed = moving.map((b) => Buffer.from(bytes.subarray(b.offset, b.offset + b.length)));
        if (moving.some((b, i) => sealed[i]!.length !== b.length)) throw new IntegrityError(object, 'pack is shorter than the index says (truncated)');
        // Every blob that moves is authenticated before any of it is written, in one worker call
        // per pack (one call per blob cost more than the rest of the prune). `bytes` goes to the worker.
        if (moving.length > 0) await pool.openBatch(bytes, batchOf(moving), [object], { returnData: false });
        for (const [i, b] of moving.entries()) {
          builder.add(b.type, Buffer.from(b.id, 'hex'), sealed[i]!, b.rawLength);
          if (builder.size >= PACK_TARGET_BYTES) await flush();
        }
        meter.add(read);
      }
      await flush();
    } finally {
      await pool.close();
    }
  }
  await opts.onStep?.('repacked');

  const storedIndexFiles: string[] = [];
  for await (const info of repo.backend.list('index')) storedIndexFiles.push(info.name);
  // Superseded index files an earlier prune did not get to remove.
  const leftovers = storedIndexFiles.filter((name) => !index.files.has(name));
  const changed = new Set([...remove, ...rewrite]);
  const listed = [...index.files].map((name) => [name, index.packsOfFile(name)] as const);
  const replaced = indexFilesToReplace(index, listed, changed);
  if (changed.size === 0 && replaced.length === 0 && leftovers.length === 0) return { packsDeleted: 0, packsRewritten: 0, bytesFreed: 0, indexFilesReplaced: 0 };

  // (2) one index file for what the replaced ones listed and stays, and for the new packs
  const untouched = new Set(listed.filter(([name]) => !replaced.includes(name)).flatMap(([, packs]) => packs ?? []));
  const keptPacks = keep.filter((pack) => !untouched.has(pack));
  // When the replaced files listed only packs going away, nothing replaces them.
  let newIndex: string | null = null;
  if (keptPacks.length + newPacks.length > 0) {
    newIndex = await repo.saveJsonDocument('index', META_LABELS.index, index.indexFileJson(keptPacks, { records: newPacks, supersedes: [...replaced, ...leftovers] }));
    // A file with exactly the same content has the same name: it must not be removed below.
    const same = replaced.indexOf(newIndex);
    if (same >= 0) replaced.splice(same, 1);
  }
  await opts.onStep?.('index-written');

  // (3) the old index files: first the leftovers, superseded already, then the ones replaced
  for (const name of [...leftovers, ...replaced]) await repo.backend.remove('index', name);
  await opts.onStep?.('old-index-removed');

  // (4) the packs nothing needs
  let bytesFreed = 0;
  for (const pack of [...remove, ...rewrite]) {
    throwIfCancelled(opts.signal);
    bytesFreed += stored.get(pack) ?? 0;
    await repo.backend.remove('data', pack);
  }
  await repo.backend.cleanup();
  await opts.onStep?.('packs-removed');
  // The index as the files now in storage say: the untouched files' packs, and the new file's.
  const kept = new Set(keptPacks);
  repo.updateSharedIndex((shared) => {
    shared.retain((pack) => untouched.has(pack) || kept.has(pack), replaced);
    for (const record of newPacks) shared.addPack(record);
    if (newIndex !== null) shared.addFileName(newIndex, [...keptPacks, ...newPacks.map((r) => r.id)]);
  });
  meter.done();
  return { packsDeleted: remove.length + rewrite.length, packsRewritten: rewrite.length, bytesFreed, indexFilesReplaced: replaced.length + leftovers.length };
}

function missingFromIndex(id: BlobKey): IntegrityError {
  return new IntegrityError(`blob ${shortHex(id)}`, 'is used by a snapshot but missing from the index', 'Run `chatsafe check` before pruning; pruning now could lose data.');
}

/**
 * The index files prune replaces: those that list a pack it deletes or rewrites, and past
 * MAX_INDEX_FILES the smallest others (see MERGE_BLOBS); every file when it is not known which packs
 * one lists.
 */
function indexFilesToReplace(index: BlobIndex, listed: ReadonlyArray<readonly [string, readonly string[] | undefined]>, changed: ReadonlySet<string>): string[] {
  if (listed.some(([, packs]) => packs === undefined)) return listed.length > 1 || changed.size > 0 ? listed.map(([name]) => name) : [];
  const known = listed as ReadonlyArray<readonly [string, readonly string[]]>;
  const replaced = known.filter(([, packs]) => packs.some((p) => changed.has(p))).map(([name]) => name);
  // How many files there are once `merged` more are replaced; the file prune writes counts too.
  const kept = known.length - replaced.length;
  const after = (merged: number) => kept - merged + 1;
  if (after(0) <= MAX_INDEX_FILES) return replaced;
  const taken = new Set(replaced);
  const others = known
    .filter(([name]) => !taken.has(name))
    .map(([name, packs]) => ({ name, blobs: packs.reduce((n, p) => n + (index.blobCountOf(p) ?? 0), 0) }))
    .sort((a, b) => a.blobs - b.blobs || (a.name < b.name ? -1 : 1));
  let blobs = 0;
  let merged = 0;
  for (const f of others) {
    if (merged >= 2 && (blobs + f.blobs > MERGE_BLOBS || after(merged) <= MAX_INDEX_FILES / 2)) break;
    replaced.push(f.name);
    blobs += f.blobs;
    merged++;
  }
  return replaced;
}
