/**
 * Deduplicates, seals and packs blobs during a backup.
 *
 * File chunks are gathered into batches (many small SQLite pages or
 * thumbnails make one worker call) and handed to the crypto workers, which
 * compute each chunk's keyed id, skip the chunks the repository already
 * holds, and compress and seal the rest. Sealed blobs come back in any order
 * and are appended to the current pack; a chunk sealed twice in one backup is
 * stored once. Full packs are hashed in a worker and written, several at a
 * time (each write ends with an fsync); an index file is written every few
 * packs so an interrupted backup resumes without storing the same data again.
 *
 * Memory is bounded: callers await `room()`, which waits while too much is in
 * flight or not yet written.
 */
import { blobId } from '../crypto/ids.js';
import type { CryptoPool } from '../jobs/crypto-pool.js';
import { GarbageBudget } from '../jobs/memory.js';
import type { BlobType } from '../repo/blob.js';
import { indexFileFor, type MasterIndex, type PackRecord } from '../repo/index-file.js';
import { PackBuilder } from '../repo/pack.js';
import type { Repository } from '../repo/repository.js';
import { META_LABELS } from '../repo/sealed-json.js';

export const PACK_TARGET_BYTES = 8 * 1024 * 1024;
const MAX_IN_FLIGHT_BYTES = 8 * 1024 * 1024;
const MAX_UNWRITTEN_BYTES = 3 * PACK_TARGET_BYTES;
const PACKS_PER_INDEX_FILE = 16;
const BATCH_BYTES = 1024 * 1024;
const BATCH_CHUNKS = 256;

export interface SaverStats {
  newBlobs: number;
  newBytes: number; // plaintext bytes of new blobs
  storedBytes: number; // bytes written to storage (packs)
  packs: number;
}

interface Batch {
  readonly type: BlobType;
  readonly compress: boolean;
  readonly parts: Buffer[];
  bytes: number;
  readonly waiting: Array<{ resolve: (id: string) => void; reject: (e: unknown) => void }>;
}

export class BlobSaver {
  readonly stats: SaverStats = { newBlobs: 0, newBytes: 0, storedBytes: 0, packs: 0 };
  /** Ids sealed in this backup but not yet in a written pack, so a repeat is not stored twice. */
  private readonly pending = new Set<string>();
  private readonly builders: Record<BlobType, PackBuilder> = { data: new PackBuilder(), tree: new PackBuilder() };
  private batch: Batch | null = null;
  private inFlightBytes = 0;
  private unwrittenBytes = 0;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly writes = new Set<Promise<void>>();
  private unindexed: PackRecord[] = [];
  private indexWriting: Promise<void> = Promise.resolve();
  private error: unknown = null;
  private waiters: Array<() => void> = [];
  private readonly budget = new GarbageBudget();

  constructor(
    private readonly repo: Repository,
    private readonly index: MasterIndex,
    private readonly pool: CryptoPool,
  ) {}

  /**
   * Queues a file chunk; resolves to its id once a worker has hashed it (and
   * sealed it if new). `data` is consumed. Call `dispatch()` before awaiting.
   */
  add(type: BlobType, data: Buffer, compress: boolean): Promise<string> {
    this.throwIfFailed();
    if (this.batch && (this.batch.type !== type || this.batch.compress !== compress)) this.dispatch();
    const batch = (this.batch ??= { type, compress, parts: [], bytes: 0, waiting: [] });
    batch.parts.push(data);
    batch.bytes += data.length;
    const id = new Promise<string>((resolve, reject) => batch.waiting.push({ resolve, reject }));
    if (batch.bytes >= BATCH_BYTES || batch.parts.length >= BATCH_CHUNKS) this.dispatch();
    return id;
  }

  /** Sends the batch being gathered to a worker. */
  dispatch(): void {
    const batch = this.batch;
    if (!batch) return;
    this.batch = null;
    const data = batch.parts.length === 1 ? batch.parts[0]! : Buffer.concat(batch.parts);
    const lengths = batch.parts.map((p) => p.length);
    this.inFlightBytes += batch.bytes;
    const job = this.pool
      .store(batch.type, data, lengths, batch.compress)
      .then((results) => {
        results.forEach(({ id, sealed }, i) => {
          const hex = id.toString('hex');
          if (sealed && !this.index.has(hex) && !this.pending.has(hex)) this.append(batch.type, Buffer.from(id), hex, sealed, lengths[i]!);
          batch.waiting[i]!.resolve(hex);
        });
      })
      .catch((e) => {
        this.error ??= e;
        for (const w of batch.waiting) w.reject(e);
      })
      .finally(() => {
        this.inFlightBytes -= batch.bytes;
        this.inFlight.delete(job);
        this.wake();
      });
    this.inFlight.add(job);
  }

  /**
   * Stores a small blob whose id is needed at once (a directory listing):
   * the id is computed here, sealing happens in the background.
   */
  save(type: BlobType, data: Buffer, compress: boolean): string {
    this.throwIfFailed();
    const id = blobId(this.repo.keys.blobId, data);
    const hex = id.toString('hex');
    if (this.index.has(hex) || this.pending.has(hex)) return hex;
    this.pending.add(hex);
    const rawLength = data.length;
    this.inFlightBytes += rawLength;
    const job = this.pool
      .seal(type, id, data, compress)
      .then((sealed) => {
        this.pending.delete(hex);
        this.append(type, id, hex, sealed, rawLength);
      })
      .catch((e) => {
        this.error ??= e;
      })
      .finally(() => {
        this.inFlightBytes -= rawLength;
        this.inFlight.delete(job);
        this.wake();
      });
    this.inFlight.add(job);
    return hex;
  }

  private append(type: BlobType, id: Buffer, hex: string, sealed: Buffer, rawLength: number): void {
    this.pending.add(hex);
    this.stats.newBlobs++;
    this.stats.newBytes += rawLength;
    const builder = this.builders[type];
    builder.add(type, id, sealed, rawLength);
    if (builder.size >= PACK_TARGET_BYTES) this.closePack(type);
  }

  /** Resolves when there is room for more work in flight. */
  async room(): Promise<void> {
    while ((this.inFlightBytes > MAX_IN_FLIGHT_BYTES || this.unwrittenBytes > MAX_UNWRITTEN_BYTES) && !this.error) {
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

  private closePack(type: BlobType): void {
    const builder = this.builders[type];
    if (builder.count === 0) return;
    this.builders[type] = new PackBuilder();
    const parts = builder.finish(this.repo.keys.meta);
    const closedBytes = builder.size;
    this.unwrittenBytes += closedBytes;
    const done = { promise: Promise.resolve() };
    done.promise = (async () => {
      try {
        const { hex, parts: back } = await this.pool.sha256(parts);
        const size = back.reduce((n, p) => n + p.length, 0);
        await this.repo.backend.write('data', hex, back);
        this.budget.spent(size);
        this.stats.storedBytes += size;
        this.stats.packs++;
        const record: PackRecord = { id: hex, size, entries: builder.entries };
        this.index.addPack(record);
        for (const e of builder.entries) this.pending.delete(e.id.toString('hex'));
        this.unindexed.push(record);
        if (this.unindexed.length >= PACKS_PER_INDEX_FILE) this.writeIndex();
      } catch (e) {
        this.error ??= e;
      } finally {
        this.unwrittenBytes -= closedBytes;
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
    this.indexWriting = this.indexWriting.then(async () => {
      try {
        const name = await this.repo.saveJson('index', META_LABELS.index, indexFileFor(packs));
        this.index.files.add(name);
      } catch (e) {
        this.error ??= e;
      }
    });
  }

  /** Waits for everything in flight, writes the last packs and their index. Throws the first error seen. */
  async flush(): Promise<void> {
    this.dispatch();
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
    this.closePack('data');
    this.closePack('tree');
    while (this.writes.size > 0) await Promise.all([...this.writes]);
    this.throwIfFailed();
    this.writeIndex();
    await this.indexWriting;
    this.throwIfFailed();
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
