/** Renders job progress as one self-overwriting line on stderr, only when stderr is a terminal. */
import type { JobProgress, ProgressListener } from '../core/jobs/progress.js';
import { formatCount as count } from '../core/importers/format.js';
import { formatBytes, formatDuration } from './format.js';
import type { CliIO } from './io.js';

export interface ProgressLine {
  readonly listener: ProgressListener | undefined;
  /** A line of its own on stderr, in place of the progress line (which the next update draws again below it). */
  note(line: string): void;
  end(): void;
}

export function progressLine(io: CliIO): ProgressLine {
  if (!io.stderr.isTTY) return { listener: undefined, note: (line) => io.stderr.write(`${line}\n`), end() {} };
  let shown = false;
  const listener = (p: JobProgress) => {
    io.stderr.write(`\r\x1b[K${formatProgress(p)}`);
    shown = true;
  };
  return {
    listener,
    note(line) {
      io.stderr.write(`${shown ? '\r\x1b[K' : ''}${line}\n`);
    },
    end() {
      if (shown) io.stderr.write('\r\x1b[K');
    },
  };
}

const IMPORT_STEPS: Record<NonNullable<JobProgress['importStep']>['step'], { what: string; unit: string }> = {
  reading: { what: 'reading the chats', unit: 'messages' },
  'hashing-media': { what: 'linking media', unit: 'files' },
  indexing: { what: 'indexing for search', unit: 'messages' },
};

/** One line of progress: bytes and files for the file phases, the importer's counts while the catalog is built. */
export function formatProgress(p: JobProgress): string {
  const eta = p.etaSeconds !== null ? `, ${formatDuration(p.etaSeconds)} left` : '';
  if (p.importStep) {
    const { what, unit } = IMPORT_STEPS[p.importStep.step];
    const total = p.importStep.total !== null ? ` of ${count(p.importStep.total)}` : '';
    return `building the chat catalog, ${what}: ${count(p.importStep.done)}${total} ${unit}${eta}`;
  }
  const total = p.bytesTotal !== null ? ` / ${formatBytes(p.bytesTotal)}` : '';
  const files = p.filesTotal !== null ? `, ${p.filesDone}/${p.filesTotal} files` : '';
  const pct = p.bytesTotal ? ` ${Math.floor((100 * p.bytesDone) / Math.max(1, p.bytesTotal))}%` : '';
  return `${p.phase}${pct}: ${formatBytes(p.bytesDone)}${total}${files}, ${formatBytes(p.rate)}/s${eta}`;
}
