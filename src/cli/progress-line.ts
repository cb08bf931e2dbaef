/** Renders job progress as one self-overwriting line on stderr, only when stderr is a terminal. */
import type { JobProgress, ProgressListener } from '../core/jobs/progress.js';
import { formatBytes, formatDuration } from './format.js';
import type { CliIO } from './io.js';

export function progressLine(io: CliIO): { listener: ProgressListener | undefined; end(): void } {
  if (!io.stderr.isTTY) return { listener: undefined, end() {} };
  let shown = false;
  const listener = (p: JobProgress) => {
    const total = p.bytesTotal !== null ? ` / ${formatBytes(p.bytesTotal)}` : '';
    const files = p.filesTotal !== null ? `, ${p.filesDone}/${p.filesTotal} files` : '';
    const eta = p.etaSeconds !== null ? `, ${formatDuration(p.etaSeconds)} left` : '';
    const pct = p.bytesTotal ? ` ${Math.floor((100 * p.bytesDone) / Math.max(1, p.bytesTotal))}%` : '';
    io.stderr.write(`\r\x1b[K${p.phase}${pct}: ${formatBytes(p.bytesDone)}${total}${files}, ${formatBytes(p.rate)}/s${eta}`);
    shown = true;
  };
  return {
    listener,
    end() {
      if (shown) io.stderr.write('\r\x1b[K');
    },
  };
}
