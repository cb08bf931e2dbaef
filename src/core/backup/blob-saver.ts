/**
 * Deduplicates, seals and packs blobs during a backup.
 *
 * File chunks are copied into batch buffers (many small SQLite pages or
 * thumbnails make one worker call) and handed to the crypto workers. A worker
 * computes each chunk's keyed id, skips the chunks the repository already
 * holds, and seals the rest straight into the pack it is filling; finished
 * packs come back, are named by their SHA-256 (a step at a time, between the
 * other work here) and written here, several at a time (each write ends with
 * an fsync). Batch buffers go back and forth and packs are built in place, so
 * a backup allocates per batch and per pack, never per chunk: tens of
 * thousands of chunks would otherwise keep the garbage collector busy. An
 * index file is written every few packs, so an interrupted backup resumes
 * without storing the same data again.
 *
 * Memory is bounded: callers await `room()`, which waits while too many
 * batches are in flight or too many packs are not yet written.
 */
import { CDC_PARAMS } from '../chunking/fastcdc.js';
import { blobId, ID_BYTES, storageNameInSteps } from '../crypto/ids.js';
import type { PackMessage } from '../jobs/crypto-protocol.js';
import type { CryptoPool } from '../jobs/crypto-pool.js';
import { viewOf, type MovableBytes } from '../jobs/transferable.js';
import { collectAllGarbage } from '../jobs/v8-collector.js';
import type { BlobType } from '../repo/blob.js';
import type { MasterIndex } from '../repo/master-index.js';
import { forEachPackEntry, packBufferBytes } from '../repo/pack.js';
import type { Repository } from '../repo/repository.js';
import { META_LABELS } from '../repo/sealed-json.js';
import type { IdSink } from './directory-ids.js';

/**
 * Packs are closed at 4 MiB, the least that still takes one largest chunk (CDC_PARAMS.max), so
 * every pack buffer is the same size and goes round. A backup keeps several of them (filling,
 * being named and written, spare), and halving them from 8 MiB lowered first backups' peaks from
 * 189 to 181 MiB at 1 GiB and from 245 to 221 MiB at 3 GiB, in the same time; restores took as
 * long (they read ranges of packs, not whole packs).
 */
export const PACK_TARGET_BYTES = 4 * 1024 * 1024;
/** Packs being named and written at once beyond which the reader waits (`room`), unless the storage says how many (`packWritesAtOnce`). */
const PACK_WRITES_AT_ONCE = 3;
/**
 * The same while other work shares the machine (a first backup's catalog, built beside it): the
 * reader waits once more than one pack's bytes are unwritten, where it went on up to three. Four
 * alternating first backups of the 3 GiB export each, whose catalog is built through half of the
 * media: 151-155 against 155-162 MiB (three of four at 161-162), in the same time (16.3-19.2
 * against 17.0-19.7 s); at 1 GiB, where the catalog ends as the media begin, 138-142 against
 * 137-146 MiB, in the same time. The backup makes as many pack buffers either way (six); what it
 * saves was not pinned down beyond that: the main thread's own buffers (`process.memoryUsage`)
 * were the same in both.
 */
const MAX_UNWRITTEN_BYTES_SHARING = PACK_TARGET_BYTES;
/** Whole blobs (`save`: listings, a large file's chunk lists) in flight beyond this wait for `room`. */
const MAX_SAVED_IN_FLIGHT_BYTES = 256 * 1024;
/** An index file for every 128 MiB of packs: how much an interrupted backup may have to store again. */
const PACKS_PER_INDEX_FILE = (128 * 1024 * 1024) / PACK_TARGET_BYTES;
/** An index file's JSON from this size on is collected once written (`saveIndexFile`). */
const LARGE_INDEX_FILE_BYTES = 1024 * 1024;
/** A batch is sent once it holds this much, or this many chunks. */
const BATCH_BYTES = 1024 * 1024;
const BATCH_CHUNKS = 256;
/**
 * Batch buffers come in two sizes: this one for the larger file chunks (room for the largest), and
 * BATCH_BYTES for the rest. A database's pages filled a quarter of a buffer this large, and a 4 MiB
 * read block of them sent four batches before the reader waited: five or six buffers of 4 MiB held
 * for 1 MiB of pages each.
 */
const BATCH_CAPACITY = CDC_PARAMS.max;
/** Written packs' buffers handed back to a worker with each request, at most. */
const SPARES_PER_REQUEST = 2;
/**
 * Batches queued per worker: enough to keep it busy while its last answer travels back. One while
 * other work shares the cores (a first backup's catalog is built beside it): the worker gets less
 * time then, and a second batch bought no speed, only memory at the run's highest moment (five
 * alternating first backups of the 1 GiB export each: 141-149 against 151-157 MiB, medians 7.33
 * and 7.36 s).
 */
const BATCHES_PER_WORKER = 2;
const BATCHES_PER_WORKER_SHARING = 1;

export interface SaverStats {
  newBlobs: number;
  newBytes: number; // plaintext bytes of new blobs
  storedBytes: number; // bytes written to storage (packs)
  packs: number;
}

interface Batch {
  readonly type: BlobType;
  readonly compress: boolean;
  readonly buf: Buffer;
  used: number;
  readonly lengths: number[];
  readonly targets: IdSink[];
  readonly slots: number[];
}

export class BlobSaver {
  readonly stats: SaverStats = { newBlobs: 0, newBytes: 0, storedBytes: 0, packs: 0 };
  /** Tree ids sent to a worker but not yet in a written pack, so a repeat is not stored twice. */
  private readonly pending = new Set<string>();
  private batch: Batch | null = null;
  /** Batch buffers back from the workers, by size (BATCH_BYTES, BATCH_CAPACITY). */
  private readonly freeBuffers = new Map<number, ArrayBuffer[]>([
    [BATCH_BYTES, []],
    [BATCH_CAPACITY, []],
  ]);
  /** Buffers of written packs, for the workers' next packs. */
  private readonly spareBuffers: ArrayBuffer[] = [];
  private batchesInFlight = 0;
  /** Bytes of whole blobs (`save`) sent to a worker and not sealed yet. */
  private savedInFlight = 0;
  private maxBatchesInFlight: number;
  private maxUnwrittenBytes: number;
  private unwrittenBytes = 0;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly writes = new Set<Promise<void>>();
  /**
   * Packs written since the last index file, by name: their entries are in the index already, and
   * the index file is built from there when it is due. Holding each pack's decoded entries until
   * then (16 packs of a database are 40,000 objects, kept for seconds) filled the main thread's
   * old generation with garbage that only a full collection frees.
   */
  private unindexed: string[] = [];
  private indexWriting: Promise<void> = Promise.resolve();
  private error: unknown = null;
  private waiters: Array<() => void> = [];

  constructor(
    private readonly repo: Repository,
    private readonly index: MasterIndex,
    private readonly pool: CryptoPool,
    /** Settles when work sharing the cores ends (see BATCHES_PER_WORKER_SHARING, MAX_UNWRITTEN_BYTES_SHARING). */
    alongside?: Promise<unknown>,
  ) {
    const maxUnwrittenBytes = (repo.backend.packWritesAtOnce ?? PACK_WRITES_AT_ONCE) * PACK_TARGET_BYTES;
    this.maxBatchesInFlight = (alongside ? BATCHES_PER_WORKER_SHARING : BATCHES_PER_WORKER) * pool.size;
    this.maxUnwrittenBytes = alongside ? Math.min(MAX_UNWRITTEN_BYTES_SHARING, maxUnwrittenBytes) : maxUnwrittenBytes;
    const alone = () => {
      this.maxBatchesInFlight = BATCHES_PER_WORKER * pool.size;
      this.maxUnwrittenBytes = maxUnwrittenBytes;
      this.wake();
    };
    alongside?.then(alone, alone);
  }

  /**
   * Queues one file chunk, given as the pieces it spans (copied here, so the
   * caller may reuse them at once); its id goes to `target` at `slot`.
   */
  add(type: BlobType, parts: readonly Uint8Array[], length: number, compress: boolean, target: IdSink): void {
    this.throwIfFailed();
    let batch = this.batch;
    if (batch && (batch.type !== type || batch.compress !== compress || batch.used + length > batch.buf.length)) {
      this.dispatch();
      batch = null;
    }
    batch ??= this.batch = { type, compress, buf: this.takeBuffer(length), used: 0, lengths: [], targets: [], slots: [] };
    for (const p of parts) {
      batch.buf.set(p, batch.used);
      batch.used += p.length;
    }
    batch.lengths.push(length);
    batch.targets.push(target);
    batch.slots.push(target.reserve());
    if (batch.used >= BATCH_BYTES || batch.lengths.length >= BATCH_CHUNKS) this.dispatch();
  }

  private takeBuffer(atLeast: number): Buffer {
    const size = atLeast <= BATCH_BYTES ? BATCH_BYTES : Math.max(BATCH_CAPACITY, atLeast);
    return Buffer.from(this.freeBuffers.get(size)?.pop() ?? new ArrayBuffer(size));
  }

  /** Sends the batch being gathered to a worker. */
  dispatch(): void {
    const batch = this.batch;
    if (!batch) return;
    this.batch = null;
    this.batchesInFlight++;
    const job = this.pool
      .packStore(batch.type, batch.buf.buffer as ArrayBuffer, batch.lengths, batch.compress, this.takeSpares())
      .then(({ ids, data, packs }) => {
        this.freeBuffers.get(data.byteLength)?.push(data);
        for (let i = 0; i < batch.lengths.length; i++) batch.targets[i]!.fill(batch.slots[i]!, ids, i * ID_BYTES);
        for (const p of packs) this.writePack(p);
      })
      .catch((e) => {
        this.error ??= e;
        for (const t of batch.targets) t.fail(e);
      })
      .finally(() => {
        this.batchesInFlight--;
        this.inFlight.delete(job);
        this.wake();
      });
    this.inFlight.add(job);
  }

  /**
   * Stores a small blob whose id is needed at once (a directory listing, a chunk list): the id is
   * computed here, sealing happens in a worker. `alone`: in a pack of its own (a chunk list).
   */
  save(type: BlobType, data: Buffer | MovableBytes, compress: boolean, alone = false): string {
    this.throwIfFailed();
    const id = blobId(this.repo.keys.blobId, viewOf(data));
    const hex = id.toString('hex');
    if (this.index.has(hex) || this.pending.has(hex)) return hex;
    this.pending.add(hex);
    const bytes = data.length;
    this.savedInFlight += bytes;
    const job = this.pool
      .packPut(type, id, data, compress, this.takeSpares(), alone)
      .then((packs) => {
        for (const p of packs) this.writePack(p);
      })
      .catch((e) => {
        this.error ??= e;
      })
      .finally(() => {
        this.savedInFlight -= bytes;
        this.inFlight.delete(job);
        this.wake();
      });
    this.inFlight.add(job);
    return hex;
  }

  private takeSpares(): ArrayBuffer[] {
    return this.spareBuffers.splice(0, SPARES_PER_REQUEST);
  }

  /** Resolves when there is room for more work in flight. */
  async room(): Promise<void> {
    while ((this.batchesInFlight >= this.maxBatchesInFlight || this.savedInFlight > MAX_SAVED_IN_FLIGHT_BYTES || this.unwrittenBytes > this.maxUnwrittenBytes) && !this.error) {
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    this.throwIfFailed();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private throwIfFailed(): void {
    if (this.error) throw this.error;
  }

  /** Writes a pack a worker finished, then records it in the index. */
  private writePack(msg: PackMessage): void {
    const size = msg.length;
    this.unwrittenBytes += size;
    const done = { promise: Promise.resolve() };
    done.promise = (async () => {
      try {
        const bytes = Buffer.from(msg.buffer, 0, size);
        const name = await storageNameInSteps(bytes);
        await this.repo.backend.write('data', name, bytes);
        // Indexed from the plain header itself: an object per entry (thousands a pack of database
        // pages) lived long enough to be promoted, and filled the old generation with garbage.
        const header = new Uint8Array(msg.entries);
        const object = `data/${name}`;
        this.index.addPackHeader(name, size, header, object);
        this.stats.storedBytes += size;
        this.stats.packs++;
        forEachPackEntry(header, size, object, (_i, type, idAt, _offset, _length, rawLength) => {
          this.stats.newBlobs++;
          this.stats.newBytes += rawLength;
          if (type === 'tree') this.pending.delete(Buffer.from(header.buffer, header.byteOffset + idAt, ID_BYTES).toString('hex'));
        });
        this.unindexed.push(name);
        if (this.unindexed.length >= PACKS_PER_INDEX_FILE) this.writeIndex();
        if (msg.buffer.byteLength === packBufferBytes(PACK_TARGET_BYTES)) this.spareBuffers.push(msg.buffer);
      } catch (e) {
        this.error ??= e;
      } finally {
        this.unwrittenBytes -= size;
        this.writes.delete(done.promise);
        this.wake();
      }
    })();
    this.writes.add(done.promise);
  }

  /** Index files are written one after another, each only for packs already stored. */
  private writeIndex(): void {
    if (this.unindexed.length === 0) return;
    const packs = this.unindexed;
    this.unindexed = [];
    this.indexWriting = this.indexWriting.then(() => this.saveIndexFile(packs)).catch((e: unknown) => {
      this.error ??= e;
    });
  }

  /**
   * Builds and writes one index file. A file of database pages is megabytes of JSON: it is
   * compressed as it is written (`Repository.saveJsonDocument`), never held whole; one full
   * collection follows such a file, which frees what the run left in the old generation before the
   * next files' buffers are needed.
   */
  private saveIndexFile(packs: string[]): Promise<void> {
    const doc = this.index.indexFileJson(packs);
    const large = doc.byteLength >= LARGE_INDEX_FILE_BYTES;
    return this.repo.saveJsonDocument('index', META_LABELS.index, doc).then((name) => {
      this.index.addFileName(name, packs);
      if (large) collectAllGarbage();
    });
  }

  /** Waits for everything in flight, writes the last packs and their index. Throws the first error seen. */
  async flush(): Promise<void> {
    this.dispatch();
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
    this.throwIfFailed();
    for (const p of await this.pool.packFinish()) this.writePack(p);
    while (this.writes.size > 0) await Promise.all([...this.writes]);
    this.throwIfFailed();
    this.writeIndex();
    await this.indexWriting;
    this.throwIfFailed();
  }

  /**
   * The 4 MiB batch buffers kept for reuse go (the larger file chunks are stored; what comes
   * next, a catalog, is pages). They were promoted long ago: the caller collects them.
   */
  releaseLargeBatchBuffers(): void {
    this.freeBuffers.get(BATCH_CAPACITY)!.length = 0;
  }

  /** After `flush`: the batch and pack buffers kept for reuse go (no more blobs come). */
  releaseBuffers(): void {
    for (const list of this.freeBuffers.values()) list.length = 0;
    this.spareBuffers.length = 0;
  }

  /**
   * After a failure or cancellation: lets what is in flight settle and
   * indexes the packs already written, so the next backup reuses them.
   */
  async abandon(): Promise<void> {
    this.batch = null;
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
    while (this.writes.size > 0) await Promise.allSettled([...this.writes]);
    const failed = this.error;
    this.error = null;
    this.writeIndex();
    await this.indexWriting;
    this.error = failed;
  }
}
