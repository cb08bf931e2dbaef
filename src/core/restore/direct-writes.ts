/**
 * Writing a restored file's bytes straight to the disk (`O_DIRECT`), past
 * the page cache, for files large enough that the disk's latency per write
 * does not matter.
 *
 * Through the page cache, the kernel finds a page for every 4 KiB written,
 * copies into it, and writes it back later. Where fresh memory is expensive
 * (on virtual machines whose host backs a guest's pages only once touched),
 * that was most of a restore's kernel time: writing 1 GiB through the page
 * cache took 1.8 s of it here, against 0.07 s direct. A restore also never
 * reads what it wrote, so caching it only pushes out what the user had cached.
 *
 * A direct write must start, end and sit in memory at multiples of the
 * device's block. Bytes are gathered in page-aligned stages (WebAssembly
 * memory, whose base is page-aligned; a Buffer's is not), and a full stage is
 * written on the thread pool while the next fills: the write waits for the
 * disk, and the restore's main thread has the next files to write meanwhile.
 * A file's last stage goes out direct up to its last whole block, and the
 * bytes past it through the page cache. (Padded with zeros to a whole block
 * and then cut to its size, as first written, the cut made ext4 read the
 * file's last block back from the disk to zero its tail: 0.09-0.4 s of a
 * 1 GiB restore's main thread, in one call per large file.) A file system that
 * refuses direct writes (on open, or on a write) gets the page cache for the
 * rest of the restore: nothing is lost but the speed.
 */
import { closeSync, constants as fsc, open, openSync } from 'node:fs';
import { copyBytes } from '../jobs/copy-bytes.js';
import { writeFully } from '../storage/write-fully.js';

/** Files at least this large are written direct (smaller ones are many, and each write would wait on the disk). */
export const DIRECT_MIN_BYTES = 256 * 1024;

/** Alignment that satisfies every common device (512-byte and 4 KiB sectors). */
export const DIRECT_ALIGN = 4096;

/** One direct write: from 256 KiB up, this machine's disk took as long for 1 GiB whatever the size (0.5 s). */
const STAGE_BYTES = 512 * 1024;

/** Stages in all: one filling in each of a restore's two lanes, and two on their way to the disk. */
const STAGE_COUNT = 4;

/** Flags that open an existing file for direct writes; null where the platform has no `O_DIRECT`. */
export const DIRECT_OPEN_FLAGS: number | null = typeof fsc.O_DIRECT === 'number' ? fsc.O_WRONLY | fsc.O_DIRECT | fsc.O_NOFOLLOW : null;

/** `path` (an existing file) opened again for direct writes, or null where the file system refuses them. */
export function openForDirectWrites(path: string): Promise<number | null> {
  if (DIRECT_OPEN_FLAGS === null) return Promise.resolve(null);
  return new Promise((resolve) => open(path, DIRECT_OPEN_FLAGS!, (err, fd) => resolve(err ? null : fd)));
}

/** `openForDirectWrites` on this thread. */
export function openForDirectWritesSync(path: string): number | null {
  if (DIRECT_OPEN_FLAGS === null) return null;
  try {
    return openSync(path, DIRECT_OPEN_FLAGS);
  } catch {
    return null;
  }
}

interface WasmMemoryApi {
  Memory: new (d: { initial: number; maximum: number }) => { buffer: ArrayBuffer };
}
const wasm = (globalThis as unknown as { WebAssembly: WasmMemoryApi }).WebAssembly;

/** The page-aligned stages of one restore, lent to its files in turn. */
export class DirectStages {
  /** False once a file system refused direct writes: the rest of the restore goes through the page cache. */
  usable = DIRECT_OPEN_FLAGS !== null;
  private readonly free: Buffer[];
  private readonly waiting: Array<(stage: Buffer) => void> = [];

  /** `misalign` shifts every stage off its page (tests: a stage the kernel refuses). */
  constructor(count = STAGE_COUNT, misalign = 0) {
    const pages = Math.ceil((count * STAGE_BYTES + misalign) / 65536);
    const memory = new wasm.Memory({ initial: pages, maximum: pages });
    this.free = Array.from({ length: count }, (_, k) => Buffer.from(memory.buffer, misalign + k * STAGE_BYTES, STAGE_BYTES));
  }

  take(): Buffer | Promise<Buffer> {
    return this.free.pop() ?? new Promise((resolve) => this.waiting.push(resolve));
  }

  give(stage: Buffer): void {
    const next = this.waiting.shift();
    if (next) next(stage);
    else this.free.push(stage);
  }
}

/**
 * One file's direct writes, in order from its start. `fallback` is the same
 * file opened through the page cache: what direct writes cannot take goes
 * there, at the same offsets.
 */
export class DirectFile {
  private stage: Buffer | null = null;
  private filled = 0;
  /** Where the stage filling now starts in the file: whole stages before it. */
  private position = 0;
  private readonly pending = new Set<Promise<void>>();
  private failure: { error: unknown } | null = null;
  private direct = true;

  constructor(
    private readonly stages: DirectStages,
    private readonly fd: number,
    private readonly fallback: number,
  ) {}

  async write(data: Uint8Array): Promise<void> {
    for (let from = 0; from < data.length; ) {
      this.throwIfFailed();
      if (!this.stage) {
        this.stage = await this.stages.take();
        this.filled = 0;
      }
      const n = Math.min(data.length - from, this.stage.length - this.filled);
      // The restore's batches are shared memory (`copyBytes`).
      copyBytes(this.stage, this.filled, from === 0 && n === data.length ? data : data.subarray(from, from + n));
      this.filled += n;
      from += n;
      if (this.filled === this.stage.length) this.submit(this.filled, this.filled);
    }
  }

  /** Writes the last stage (its whole blocks direct, the rest through the page cache) and waits for every write. */
  async end(): Promise<void> {
    if (this.stage && this.filled > 0) this.submit(Math.floor(this.filled / DIRECT_ALIGN) * DIRECT_ALIGN, this.filled);
    // settle gives back a stage left empty.
    await this.settle();
    this.throwIfFailed();
  }

  /** Waits for the writes on their way and gives back the stage being filled: before the file is closed, whatever happened. */
  async settle(): Promise<void> {
    while (this.pending.size > 0) await Promise.all(this.pending);
    if (this.stage) {
      this.stages.give(this.stage);
      this.stage = null;
    }
  }

  close(): void {
    closeSync(this.fd);
  }

  /** Sends the stage's first `real` bytes: the first `length` (whole blocks) direct, the rest through the page cache. */
  private submit(length: number, real: number): void {
    const stage = this.stage!;
    const position = this.position;
    this.stage = null;
    this.position += real;
    const done = this.writeOut(stage, length, real, position).then(
      () => this.stages.give(stage),
      (error: unknown) => {
        this.stages.give(stage);
        this.failure ??= { error };
      },
    );
    const tracked = done.finally(() => this.pending.delete(tracked));
    this.pending.add(tracked);
  }

  /** A refusal (EINVAL: no direct writes on this file system, or a stricter alignment) sends the bytes through the page cache. */
  private async writeOut(stage: Buffer, length: number, real: number, position: number): Promise<void> {
    if (this.direct) {
      try {
        if (length > 0) await writeFully(this.fd, stage, length, position);
        // After the direct part, not beside it: each write may move the end of the file.
        if (real > length) await writeFully(this.fallback, stage.subarray(length), real - length, position + length);
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EINVAL') throw e;
        this.direct = false;
        this.stages.usable = false;
      }
    }
    await writeFully(this.fallback, stage, real, position);
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure.error;
  }
}
