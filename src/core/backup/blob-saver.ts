/**
 * Deduplicates, seals and packs blobs during a backup. The main thread
 * computes each blob's keyed id (cheap, and needed at once to know whether
 * the blob is new); new blobs go to the crypto workers to be compressed and
 * sealed, come back in any order, and are appended to the current pack. Full
 * packs are hashed (in a worker), written, and indexed; an index file is
 * written every few packs so that an interrupted backup can resume without
 * storing the same data again. Memory is bounded: callers await `room()`.
 */
import { blobId } from '../crypto/ids.js';
import type { CryptoPool } from '../jobs/crypto-pool.js';
import type { BlobType } from '../repo/blob.js';
import { indexFileFor, type MasterIndex, type PackRecord } from '../repo/index-file.js';
import { PackBuilder } from '../repo/pack.js';
import type { Repository } from '../repo/repository.js';
import { META_LABELS } from '../repo/sealed-json.js';
import { GarbageBudget } from '../jobs/memory.js';

export const PACK_TARGET_BYTES = 8 * 1024 * 1024;
const MAX_IN_FLIGHT_BYTES = 8 * 1024 * 1024;
const PACKS_PER_INDEX_FILE = 16;

export interface SaverStats {
  newBlobs: number;
  newBytes: number; // plaintext bytes of new blobs
  storedBytes: number; // bytes written to storage (packs)
  packs: number;
}

export class BlobSaver {
  readonly stats: SaverStats = { newBlobs: 0, newBytes: 0, storedBytes: 0, packs: 0 };
  private readonly pending = new Set<string>();
  private readonly builders: Record<BlobType, PackBuilder> = { data: new PackBuilder(), tree: new PackBuilder() };
  private inFlightBytes = 0;
  /** Bytes of closed packs not yet stored. */
  private unwrittenBytes = 0;
  private readonly inFlight = new Set<Promise<void>>();
  private writing: Promise<void> = Promise.resolve();
  private unindexed: PackRecord[] = [];
  private error: unknown = null;
  private waiters: Array<() => void> = [];
  private readonly budget = new GarbageBudget();

  constructor(
    private readonly repo: Repository,
    private readonly index: MasterIndex,
    private readonly pool: CryptoPool,
  ) {}

  /** Returns the blob's id at once; sealing and storing happen in the background. `data` is consumed. */
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
        this.stats.newBlobs++;
        this.stats.newBytes += rawLength;
        const builder = this.builders[type];
        builder.add(type, id, sealed, rawLength);
        if (builder.size >= PACK_TARGET_BYTES) this.closePack(type);
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

  /** Resolves when there is room for more work in flight. */
  async room(): Promise<void> {
    while ((this.inFlightBytes > MAX_IN_FLIGHT_BYTES || this.unwrittenBytes > PACK_TARGET_BYTES) && !this.error) {
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
    // One pack is written at a time, in order; the next is built meanwhile.
    this.writing = this.writing.then(async () => {
      if (this.error) return;
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
        if (this.unindexed.length >= PACKS_PER_INDEX_FILE) await this.writeIndex();
      } catch (e) {
        this.error ??= e;
      } finally {
        this.unwrittenBytes -= closedBytes;
        this.wake();
      }
    });
  }

  private async writeIndex(): Promise<void> {
    if (this.unindexed.length === 0) return;
    const packs = this.unindexed;
    this.unindexed = [];
    const name = await this.repo.saveJson('index', META_LABELS.index, indexFileFor(packs));
    this.index.files.add(name);
  }

  /** Waits for everything in flight, writes the last packs and their index. Throws the first error seen. */
  async flush(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
    this.closePack('data');
    this.closePack('tree');
    await this.writing;
    this.throwIfFailed();
    await this.writeIndex();
  }

  /**
   * After a failure or cancellation: lets what is in flight settle and
   * indexes the packs already written, so the next backup reuses them.
   */
  async abandon(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
    await this.writing.catch(() => undefined);
    if (this.unindexed.length > 0) await this.writeIndex().catch(() => undefined);
  }
}
