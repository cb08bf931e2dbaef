/**
 * `check`: finds every problem in a repository and names the object it is in,
 * rather than stopping at the first. Without the key it can verify that the
 * header and slots parse and (with readData) that every object's bytes still
 * hash to its name. With the key it also authenticates the index, every
 * snapshot and tree, and confirms that every chunk a snapshot needs is
 * indexed in a pack of the right size; with readData it decrypts every blob
 * and checks it against its keyed id.
 */
import { createHash } from 'node:crypto';
import { ChatsafeError, IntegrityError, isChatsafeError, throwIfCancelled } from '../errors.js';
import { batchOf } from '../jobs/batch-blobs.js';
import { CryptoPool } from '../jobs/crypto-pool.js';
import { ProgressMeter, type ProgressListener } from '../jobs/progress.js';
import { collectUsage } from '../backup/verify.js';
import { shortHex } from '../crypto/ids.js';
import { BlobIdSet } from '../repo/blob-id-set.js';
import { IndexFileSchema, supersededIn, type IndexFile } from '../repo/index-file.js';
import { MasterIndex } from '../repo/master-index.js';
import { headerRange, packBufferBytes, parsePackHeader } from '../repo/pack.js';
import { readHeader, type RepoHeader, type Repository } from '../repo/repository.js';
import { measureTree, type TreeMeasure } from '../repo/tree-measure.js';
import { META_LABELS } from '../repo/sealed-json.js';
import { SnapshotSchema } from '../repo/snapshot.js';
import { MAX_OBJECT_BYTES, objectPath, oversizedObject, type ObjectInfo, type StorageBackend } from '../storage/backend.js';
import { orderedMap } from '../jobs/ordered-map.js';
import { PACK_TARGET_BYTES } from '../backup/blob-saver.js';
import { BufferRing, readInto } from '../restore/chunk-stream.js';

export interface CheckProblem {
  readonly object: string;
  readonly message: string;
}

export interface CheckReport {
  readonly ok: boolean;
  readonly withKey: boolean;
  readonly readData: boolean;
  readonly errors: CheckProblem[];
  readonly warnings: CheckProblem[];
  readonly counts: { snapshots: number; indexFiles: number; packs: number; blobs: number; trees: number; bytesRead: number };
}

export interface CheckOptions {
  readonly readData?: boolean;
  readonly signal?: AbortSignal;
  readonly onProgress?: ProgressListener;
}

/** The problem as seen from `object` (what check was examining); the inner object, if any, stays in the message. */
export function problemOf(object: string, e: unknown): CheckProblem {
  if (isChatsafeError(e)) {
    const msg = e.message.startsWith(`${object}: `) ? e.message.slice(object.length + 2) : e.message;
    return { object, message: msg };
  }
  return { object, message: (e as Error)?.message ?? String(e) };
}

/** The key slots no key can open, which the repository was opened without. */
function unreadableSlotProblems(header: RepoHeader): CheckProblem[] {
  return header.unreadableSlots.map((u) => ({ object: `keys/${u.id}`, message: `${u.problem}; \`chatsafe key remove ${u.id.slice(0, 8)}\` deletes it` }));
}

/** Without the key: header, slots, and (readData) that each object hashes to its name. */
export async function checkWithoutKey(backend: StorageBackend, opts: CheckOptions = {}): Promise<CheckReport> {
  const errors: CheckProblem[] = [];
  const warnings: CheckProblem[] = [];
  const counts = { snapshots: 0, indexFiles: 0, packs: 0, blobs: 0, trees: 0, bytesRead: 0 };
  try {
    errors.push(...unreadableSlotProblems(await readHeader(backend)));
  } catch (e) {
    if (isChatsafeError(e) && e.kind === 'not-found') throw e;
    errors.push(problemOf(e instanceof IntegrityError ? e.object : 'config', e));
  }
  const meter = new ProgressMeter(opts.onProgress, 'checking');
  const buffers = new BufferRing(packBufferBytes(PACK_TARGET_BYTES));
  for (const kind of ['snapshots', 'index', 'data'] as const) {
    const objects: ObjectInfo[] = [];
    for await (const info of backend.list(kind)) objects.push(info);
    if (kind === 'snapshots') counts.snapshots += objects.length;
    else if (kind === 'index') counts.indexFiles += objects.length;
    else counts.packs += objects.length;
    if (!opts.readData) continue;
    // As with the key: one object read while the other is hashed, into buffers read into again.
    const hashed = orderedMap(objects, PACKS_AHEAD, async (info): Promise<{ bytes: number; problem: CheckProblem | null }> => {
      throwIfCancelled(opts.signal);
      const object = objectPath(kind, info.name);
      if (info.size > MAX_OBJECT_BYTES[kind]) return { bytes: 0, problem: problemOf(object, oversizedObject(kind, info.name, info.size)) };
      const buffer = buffers.take(info.size);
      try {
        const bytes = await backend.read(kind, info.name, { offset: 0, length: info.size }, Buffer.from(buffer, 0, info.size));
        const matches = createHash('sha256').update(bytes).digest('hex') === info.name;
        return { bytes: bytes.length, problem: matches ? null : { object, message: 'contents do not match the object name (modified or damaged)' } };
      } catch (e) {
        if (isChatsafeError(e) && e.kind === 'cancelled') throw e;
        return { bytes: 0, problem: problemOf(object, e) };
      } finally {
        buffers.give(buffer);
      }
    });
    for await (const r of hashed) {
      counts.bytesRead += r.bytes;
      meter.add(r.bytes);
      if (r.problem) errors.push(r.problem);
    }
  }
  if (!opts.readData) warnings.push({ object: 'repository', message: 'object contents were not read; add --read-data to verify every byte' });
  return { ok: errors.length === 0, withKey: false, readData: opts.readData ?? false, errors, warnings, counts };
}

export async function checkRepository(repo: Repository, opts: CheckOptions = {}): Promise<CheckReport> {
  const errors: CheckProblem[] = [];
  const warnings: CheckProblem[] = [];
  const counts = { snapshots: 0, indexFiles: 0, packs: 0, blobs: 0, trees: 0, bytesRead: 0 };
  const backend = repo.backend;
  errors.push(...unreadableSlotProblems(await readHeader(backend)));

  // index files, each authenticated on its own so one bad file does not hide the others
  const index = new MasterIndex();
  const indexNames: string[] = [];
  for await (const info of backend.list('index')) indexNames.push(info.name);
  const indexFiles = new Map<string, IndexFile>();
  for (const name of indexNames.sort()) {
    try {
      indexFiles.set(name, await repo.loadJson('index', name, META_LABELS.index, IndexFileSchema));
      counts.indexFiles++;
    } catch (e) {
      errors.push(problemOf(`index/${name}`, e));
    }
  }
  const superseded = supersededIn(indexFiles);
  for (const [name, file] of indexFiles) if (!superseded.has(name)) index.addFile(name, file);

  // snapshots and their trees
  const usage = { trees: new Set<string>(), data: new BlobIdSet() };
  const snapshotNames: string[] = [];
  for await (const info of backend.list('snapshots')) snapshotNames.push(info.name);
  const measured = new Map<string, TreeMeasure>();
  for (const name of snapshotNames.sort()) {
    throwIfCancelled(opts.signal);
    try {
      const snapshot = await repo.loadJson('snapshots', name, META_LABELS.snapshot, SnapshotSchema);
      counts.snapshots++;
      await collectUsage(repo, index, snapshot, usage, opts.signal);
      // What a restore would refuse: trees that expand past what a backup stores.
      await measureTree(repo, index, snapshot.tree, measured, opts.signal);
    } catch (e) {
      if (isChatsafeError(e) && e.kind === 'cancelled') throw e;
      errors.push(problemOf(`snapshots/${name}`, e));
    }
  }
  counts.trees = usage.trees.size;
  counts.blobs = index.blobCount;
  for (const id of usage.data) {
    if (!index.has(id)) errors.push({ object: `data blob ${shortHex(id)}`, message: 'is needed by a snapshot but no index lists it' });
  }

  // packs: present, right size, nothing unexpected
  const stored = new Map<string, number>();
  for await (const info of backend.list('data')) stored.set(info.name, info.size);
  counts.packs = stored.size;
  for (const [pack, meta] of index.packs) {
    const size = stored.get(pack);
    if (size === undefined) errors.push({ object: objectPath('data', pack), message: 'is listed in the index but missing from storage' });
    else if (size !== meta.size) errors.push({ object: objectPath('data', pack), message: `has ${size} bytes, the index says ${meta.size} (truncated or damaged)` });
  }
  for (const name of superseded) {
    const gone = indexFiles.get(name)!.packs.filter((p) => !stored.has(p.id));
    if (gone.length > 0) errors.push({ object: `index/${name}`, message: `is superseded by a newer index and lists ${gone.length} pack(s) that are gone (put back from an old copy?); \`chatsafe prune\` removes it` });
    else warnings.push({ object: `index/${name}`, message: 'is superseded by a newer index (left by an interrupted prune; `chatsafe prune` removes it)' });
  }
  for (const pack of stored.keys()) {
    if (!index.packs.has(pack)) warnings.push({ object: objectPath('data', pack), message: 'is not in any index (left by an interrupted backup; `chatsafe prune` removes it)' });
  }

  if (opts.readData) {
    const meter = new ProgressMeter(opts.onProgress, 'checking', [...stored.values()].reduce((a, b) => a + b, 0), stored.size);
    const pool = new CryptoPool(repo.keys);
    const packs = repo.packReader();
    const buffers = new BufferRing(packBufferBytes(PACK_TARGET_BYTES));
    // Two packs at once: one is read while the other is hashed or opened (one after another, each
    // step waited for the last, and a 1 GiB repository took 11-13 s, its threads mostly idle).
    const checked = orderedMap(stored, PACKS_AHEAD, async ([pack, size]): Promise<{ object: string; size: number; problems: CheckProblem[] }> => {
      throwIfCancelled(opts.signal);
      const object = objectPath('data', pack);
      const problems: CheckProblem[] = [];
      try {
        if (size > MAX_OBJECT_BYTES.data) throw oversizedObject('data', pack, size);
        const buffer = buffers.take(size);
        let moved = false;
        try {
          const bytes = await readInto(packs, pack, 0, size, buffer, 0);
          counts.bytesRead += bytes.length;
          if (createHash('sha256').update(bytes).digest('hex') !== pack) throw new ChatsafeError('integrity', 'contents do not match the object name (modified or damaged)');
          const range = headerRange(bytes.length, bytes.subarray(bytes.length - 4), object);
          const entries = parsePackHeader(repo.keys.meta, bytes.subarray(range.offset, range.offset + range.length), range.offset, object);
          const indexed = index.blobsOfPack(pack);
          if (indexed && (indexed.length !== entries.length || indexed.some((b, i) => b.id !== entries[i]!.id.toString('hex') || b.offset !== entries[i]!.offset))) {
            problems.push({ object, message: 'pack header and index disagree about its contents' });
          }
          moved = true;
          // The buffer comes back once the pack's blobs are checked, for the next pack.
          buffers.give(await pool.verifyBatch(buffer, batchOf(entries), [object]));
        } finally {
          if (!moved) buffers.give(buffer);
        }
      } catch (e) {
        if (isChatsafeError(e) && e.kind === 'cancelled') throw e;
        problems.push(problemOf(object, e));
      }
      return { object, size, problems };
    });
    try {
      for await (const r of checked) {
        errors.push(...r.problems);
        meter.add(r.size, 1);
      }
    } finally {
      await packs.close();
      await pool.close();
    }
  }
  return { ok: errors.length === 0, withKey: true, readData: opts.readData ?? false, errors, warnings, counts };
}

/** Packs read, hashed or opened at once by `check --read-data` (three were no faster, and 5 MiB higher). */
const PACKS_AHEAD = 2;
