import type { Progress } from '../api';
import { formatBytes, formatDuration, PHASES, plural } from '../format';

const IMPORT_STEPS: Record<NonNullable<Progress['importStep']>['step'], { label: string; unit: string }> = {
  reading: { label: 'Reading the chats', unit: 'message' },
  'hashing-media': { label: 'Checking the media files', unit: 'media file' },
  indexing: { label: 'Building the search index', unit: 'item' },
};

/** "12,000 of 100,000 messages", or the bytes and files of a storage phase. */
function numbers(p: Progress): string {
  const s = p.importStep;
  if (s) {
    if (s.step === 'indexing') return '';
    const { unit } = IMPORT_STEPS[s.step];
    return s.total !== null ? `${s.done.toLocaleString('en')} of ${plural(s.total, unit)}` : plural(s.done, unit);
  }
  let text = `${formatBytes(p.bytesDone)}${p.bytesTotal !== null ? ` of ${formatBytes(p.bytesTotal)}` : ''} · ${p.filesDone}${p.filesTotal !== null ? ` of ${p.filesTotal}` : ''} files`;
  if (p.rate > 0) text += ` · ${formatBytes(p.rate)}/s`;
  return text;
}

function fractionOf(p: Progress | null): number | null {
  if (!p) return null;
  if (p.importStep) return p.importStep.total ? Math.min(1, p.importStep.done / Math.max(1, p.importStep.total)) : null;
  return p.bytesTotal ? Math.min(1, p.bytesDone / Math.max(1, p.bytesTotal)) : null;
}

export function ProgressView({ progress, onCancel, cancelling }: { progress: Progress | null; onCancel?: () => void; cancelling?: boolean }) {
  const p = progress;
  const fraction = fractionOf(p);
  const phase = p ? (p.importStep ? IMPORT_STEPS[p.importStep.step].label : (PHASES[p.phase] ?? p.phase)) : 'Starting';
  const line = p ? [numbers(p), p.etaSeconds !== null ? `about ${formatDuration(p.etaSeconds)} left` : ''].filter(Boolean).join(' · ') : '';
  return (
    <section className="progress" aria-label="Progress">
      <p className="progress-phase" aria-live="polite">
        {phase}…
      </p>
      <progress max={1} value={fraction ?? undefined} aria-label="Progress of this step" />
      {line && <p className="progress-numbers">{line}</p>}
      {onCancel && (
        <button type="button" onClick={onCancel} disabled={cancelling}>
          {cancelling ? 'Cancelling…' : 'Cancel'}
        </button>
      )}
    </section>
  );
}
