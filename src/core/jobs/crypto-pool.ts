/**
 * A small pool of crypto workers. Requests are spread round-robin; each
 * returns a promise. Errors raised in a worker come back as IntegrityErrors
 * (for damaged data) or plain errors, never as a crashed process.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { IntegrityError } from '../errors.js';
import type { BlobType } from '../repo/blob.js';
import type { IndexedIdBuffers } from '../repo/indexed-ids.js';
import type { BatchBlobs } from './batch-blobs.js';
import { movable, moved, transferable, type MovableBytes } from './transferable.js';
import { youngGeneration } from './worker-heaps.js';
import type { CryptoRequest, CryptoResponse, CryptoWorkerData, Envelope, PackMessage } from './crypto-protocol.js';

/**
 * Semi-spaces of 2 MiB, the size the command's main thread has (bin/chatsafe.js), for sealing and
 * opening alike. Sealing workers asked for 16 MiB ones (a 48 MiB young generation) and opening
 * workers for 1.3 MiB (4), but until `youngGeneration` the command's flag gave every worker 2 MiB,
 * and every figure in docs/ENGINE.md since was measured so; three alternating restores of the
 * 1 GiB export with the 4 asked for took 4.5-5.6 against 4.4-4.6 s. The Electron app, started
 * without the flag, gave its sealing workers the 16 MiB semi-spaces: it now runs its backups as
 * the command does.
 */
const CRYPTO_YOUNG_GENERATION_MB = 6;

/** verifyId: also check each blob's keyed id against its plaintext; returnData: false to keep nothing (see also `verifyBatch`). */
type OpenOptions = { verifyId?: boolean; returnData?: boolean };

type Pending = { resolve: (r: CryptoResponse) => void; reject: (e: unknown) => void };

export class CryptoPool {
  private workers: Worker[] = [];
  private readonly pending = new Map<number, Pending>();
  private seq = 0;
  private next = 0;
  private failed: Error | null = null;

  private readonly startWorker: () => Worker;
  readonly size: number;

  /**
   * The default is one worker per core beyond the main thread's: the main
   * thread reads, chunks and hashes at about the rate one worker seals, and
   * each further worker costs memory without adding speed. Workers start on
   * the first request: a backup of an unchanged export never needs them.
   * A backup's workers read its index (`indexedIds`, which the main thread
   * adds to meanwhile) to skip the chunks it holds.
   */
  constructor(keys: { data: Buffer; blobId: Buffer; meta?: Buffer }, size = Math.max(1, Math.min(4, availableParallelism() - 1)), backup?: { indexedIds: IndexedIdBuffers; packTarget: number }) {
    this.size = size;
    let workerData: CryptoWorkerData | null = null;
    this.startWorker = () => {
      workerData ??= {
        dataKey: new Uint8Array(keys.data),
        blobIdKey: new Uint8Array(keys.blobId),
        ...(backup && keys.meta ? { indexedIds: backup.indexedIds, metaKey: new Uint8Array(keys.meta), packTarget: backup.packTarget } : {}),
      };
      const w = new Worker(new URL('./crypto-worker.js', import.meta.url), { workerData, resourceLimits: youngGeneration(CRYPTO_YOUNG_GENERATION_MB) });
      w.on('message', (m: { seq: number; res: CryptoResponse }) => {
        const p = this.pending.get(m.seq);
        if (!p) return;
        this.pending.delete(m.seq);
        p.resolve(m.res);
      });
      w.on('error', (e) => this.fail(e));
      w.on('exit', (code) => {
        if (code !== 0 && this.workers.includes(w)) this.fail(new Error(`crypto worker exited with code ${code}`));
      });
      return w;
    };
  }

  /**
   * Starts the workers now rather than on the first request, for a caller that knows it will need
   * them and has other work first: a worker's start (a V8 isolate, its modules and native bindings)
   * took 110-125 ms on a slow machine, and a restore reads the index and plans meanwhile.
   */
  warm(): void {
    if (!this.failed) this.started();
  }

  private started(): Worker[] {
    while (this.workers.length < this.size) this.workers.push(this.startWorker());
    return this.workers;
  }

  private fail(e: Error): void {
    this.failed = e;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  private request(req: CryptoRequest, transfer: ArrayBuffer[]): Promise<CryptoResponse> {
    if (this.failed) return Promise.reject(this.failed);
    const workers = this.started();
    return this.requestOn(workers[this.next++ % workers.length]!, req, transfer);
  }

  private requestOn(worker: Worker, req: CryptoRequest, transfer: ArrayBuffer[]): Promise<CryptoResponse> {
    if (this.failed) return Promise.reject(this.failed);
    const seq = this.seq++;
    const envelope: Envelope = { seq, req };
    return new Promise<CryptoResponse>((resolve, reject) => {
      this.pending.set(seq, { resolve, reject });
      worker.postMessage(envelope, transfer);
    }).then((res) => {
      if (res.op === 'error') {
        if (res.kind === 'integrity') {
          const e = new IntegrityError(res.object, '');
          e.message = res.message.startsWith(res.object) ? res.message : `${res.object}: ${res.message}`;
          throw e;
        }
        throw new Error(res.message);
      }
      return res;
    });
  }

  /**
   * Hashes chunks laid end to end in `data` (moved to a worker) and seals
   * those the repository does not hold into that worker's pack. Returns the
   * ids (32 bytes each), `data`'s memory back for reuse, and any packs that
   * filled up.
   */
  async packStore(type: BlobType, data: ArrayBuffer, lengths: number[], compress: boolean, spare: ArrayBuffer[] = []): Promise<{ ids: Buffer; data: ArrayBuffer; packs: PackMessage[] }> {
    const res = (await this.request({ op: 'pack-store', type, data, lengths, compress, spare }, [data, ...spare])) as Extract<CryptoResponse, { op: 'pack-store' }>;
    return { ids: Buffer.from(res.ids), data: res.data, packs: res.packs };
  }

  /** Seals one blob with a known id into a worker's pack; `data` is moved. */
  async packPut(type: BlobType, id: Buffer, data: Buffer | MovableBytes, compress: boolean, spare: ArrayBuffer[] = [], alone = false): Promise<PackMessage[]> {
    const { buffer, length } = movable(data);
    const res = (await this.request({ op: 'pack-put', type, id: new Uint8Array(id), data: buffer, length, compress, spare, alone }, [buffer, ...spare])) as Extract<CryptoResponse, { op: 'packs' }>;
    return res.packs;
  }

  /** Finishes every worker's partly filled packs (none when no worker was needed). */
  async packFinish(): Promise<PackMessage[]> {
    if (this.failed) throw this.failed;
    const all = await Promise.all(this.workers.map((w) => this.requestOn(w, { op: 'pack-finish' }, [])));
    return all.flatMap((res) => (res as Extract<CryptoResponse, { op: 'packs' }>).packs);
  }

  /**
   * Opens adjacent blobs read in one piece (ranges of packs) in one worker
   * call; returns their plaintexts concatenated in order. `sealed` is moved;
   * `objects` name the packs `blobs.sources` points to, for messages.
   */
  async openBatch(sealed: Buffer, blobs: BatchBlobs, objects: string[], opts: OpenOptions = {}): Promise<Buffer> {
    const ab = transferable(sealed);
    return this.requestOpenBatch({ op: 'open-batch', sealed: ab, blobs, objects, verifyId: opts.verifyId ?? false, returnData: opts.returnData ?? true });
  }

  /**
   * Opens a batch in the buffer it was read into, which goes to a worker (moved, unless it is
   * shared memory) and comes back holding the plaintexts, concatenated in order from its start:
   * the seals lie from `base` to its end, laid out by `InPlaceRoom`.
   */
  async openBatchInPlace(buffer: ArrayBuffer | SharedArrayBuffer, base: number, blobs: BatchBlobs, objects: string[]): Promise<Buffer> {
    return this.requestOpenBatch({ op: 'open-batch', sealed: buffer, blobs, objects, verifyId: false, returnData: true, inPlace: base });
  }

  /**
   * Checks blobs read into `buffer` (at the offsets `blobs` gives): each opens, and its id matches
   * its plaintext. Nothing is kept; the buffer goes to a worker (moved, unless it is shared memory)
   * and comes back, to be read into again.
   */
  async verifyBatch(buffer: ArrayBuffer | SharedArrayBuffer, blobs: BatchBlobs, objects: string[]): Promise<ArrayBuffer | SharedArrayBuffer> {
    const res = (await this.request({ op: 'open-batch', sealed: buffer, blobs, objects, verifyId: true, returnData: false }, moved(buffer))) as Extract<CryptoResponse, { op: 'open-batch' }>;
    return res.data;
  }

  /** Sends an open-batch request, its buffer moved unless shared; the plaintexts come back. */
  private async requestOpenBatch(req: Extract<CryptoRequest, { op: 'open-batch' }>): Promise<Buffer> {
    const res = (await this.request(req, moved(req.sealed))) as Extract<CryptoResponse, { op: 'open-batch' }>;
    return Buffer.from(res.data, 0, res.length);
  }

  /** SHA-256 over parts; the parts are moved to the worker and handed back. */
  async sha256(parts: Buffer[]): Promise<{ hex: string; parts: Buffer[] }> {
    const abs = parts.map(transferable);
    const res = (await this.request({ op: 'sha256', parts: abs }, abs)) as Extract<CryptoResponse, { op: 'sha256' }>;
    return { hex: res.hex, parts: res.parts.map((p) => Buffer.from(p)) };
  }

  /** Stops the workers (their heaps and buffers go); a later request starts new ones. */
  async close(): Promise<void> {
    const stopping = this.workers;
    this.workers = [];
    await Promise.all(stopping.map((w) => w.terminate()));
    // Nothing should be waiting by now; if something is, it gets an answer rather than none.
    for (const p of this.pending.values()) p.reject(new Error('the crypto workers were stopped'));
    this.pending.clear();
  }
}
