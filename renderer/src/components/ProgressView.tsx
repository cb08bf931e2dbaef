import type { Progress } from '../api';
import { formatBytes, formatDuration, PHASES } from '../format';

export function ProgressView({ progress, onCancel, cancelling }: { progress: Progress | null; onCancel?: () => void; cancelling?: boolean }) {
  const p = progress;
  const fraction = p && p.bytesTotal ? Math.min(1, p.bytesDone / Math.max(1, p.bytesTotal)) : null;
  return (
    <section className="progress" aria-label="Progress">
      <p className="progress-phase" aria-live="polite">
        {p ? (PHASES[p.phase] ?? p.phase) : 'Starting'}…
      </p>
      <progress max={1} value={fraction ?? undefined} aria-label="Progress of this step" />
      {p && (
        <p className="progress-numbers">
          {formatBytes(p.bytesDone)}
          {p.bytesTotal !== null && ` of ${formatBytes(p.bytesTotal)}`} · {p.filesDone}
          {p.filesTotal !== null && ` of ${p.filesTotal}`} files
          {p.rate > 0 && ` · ${formatBytes(p.rate)}/s`}
          {p.etaSeconds !== null && ` · about ${formatDuration(p.etaSeconds)} left`}
        </p>
      )}
      {onCancel && (
        <button type="button" onClick={onCancel} disabled={cancelling}>
          {cancelling ? 'Cancelling…' : 'Cancel'}
        </button>
      )}
    </section>
  );
}
