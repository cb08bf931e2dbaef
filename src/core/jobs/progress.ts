/**
 * Progress events every long job emits (backup, restore, check, export,
 * prune). Fronts turn them into a terminal line, IPC events or HTTP
 * server-sent events; rate and ETA are computed by `ProgressMeter` so every
 * front shows the same numbers.
 */
export type JobPhase = 'scanning' | 'importing' | 'backing-up' | 'verifying' | 'pruning' | 'restoring' | 'checking' | 'exporting';

export interface JobProgress {
  readonly phase: JobPhase;
  readonly bytesDone: number;
  readonly bytesTotal: number | null;
  readonly filesDone: number;
  readonly filesTotal: number | null;
  /** Bytes per second over the last few seconds. */
  readonly rate: number;
  /** Seconds left, when the total is known and the rate is positive. */
  readonly etaSeconds: number | null;
  /** While the chat catalog is built ('importing'): the importer's step, counted in messages or media files. */
  readonly importStep?: ImportStepProgress;
}

export interface ImportStepProgress {
  readonly step: 'reading' | 'hashing-media' | 'indexing';
  readonly done: number;
  readonly total: number | null;
}

export type ProgressListener = (p: JobProgress) => void;

export class ProgressMeter {
  private bytesDone = 0;
  private filesDone = 0;
  private samples: Array<{ t: number; bytes: number }> = [];
  private lastEmit = 0;

  constructor(
    private readonly listener: ProgressListener | undefined,
    private phase: JobPhase,
    private bytesTotal: number | null = null,
    private filesTotal: number | null = null,
    private readonly intervalMs = 200,
  ) {}

  setPhase(phase: JobPhase, totals?: { bytes?: number | null; files?: number | null }): void {
    this.phase = phase;
    if (totals?.bytes !== undefined) this.bytesTotal = totals.bytes;
    if (totals?.files !== undefined) this.filesTotal = totals.files;
    this.bytesDone = 0;
    this.filesDone = 0;
    this.samples = [];
    this.emit(true);
  }

  add(bytes: number, files = 0): void {
    this.bytesDone += bytes;
    this.filesDone += files;
    this.emit(false);
  }

  done(): void {
    this.emit(true);
  }

  private emit(force: boolean): void {
    if (!this.listener) return;
    const now = Date.now();
    if (!force && now - this.lastEmit < this.intervalMs) return;
    this.lastEmit = now;
    this.samples.push({ t: now, bytes: this.bytesDone });
    while (this.samples.length > 2 && now - this.samples[0]!.t > 5000) this.samples.shift();
    const first = this.samples[0]!;
    const dt = (now - first.t) / 1000;
    const rate = dt > 0 ? (this.bytesDone - first.bytes) / dt : 0;
    const left = this.bytesTotal !== null ? Math.max(0, this.bytesTotal - this.bytesDone) : null;
    this.listener({
      phase: this.phase,
      bytesDone: this.bytesDone,
      bytesTotal: this.bytesTotal,
      filesDone: this.filesDone,
      filesTotal: this.filesTotal,
      rate,
      etaSeconds: left !== null && rate > 0 ? left / rate : null,
    });
  }
}
