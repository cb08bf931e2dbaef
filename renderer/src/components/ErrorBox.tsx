import type { AppError } from '../api';

/** An error says what happened and what to do next; it is announced to screen readers. */
export function ErrorBox({ error, onRetry }: { error: AppError; onRetry?: () => void }) {
  return (
    <div className="error" role="alert" data-kind={error.kind}>
      <p className="error-message">{error.message}</p>
      {error.suggestion && !error.message.includes("did you mean") && (
        <p className="error-suggestion">
          Group {error.suggestion.group}, digit {error.suggestion.digit}: you typed <kbd>{error.suggestion.typed}</kbd>; it is probably <kbd>{error.suggestion.suggested}</kbd>.
        </p>
      )}
      {error.attemptsLeft !== null && !error.message.includes("attempts left") && (
        <p className="error-attempts">
          {error.attemptsLeft} {error.attemptsLeft === 1 ? 'attempt' : 'attempts'} left before the vault destroys the key.
        </p>
      )}
      {error.hint && <p className="error-hint">{error.hint}</p>}
      {onRetry && (
        <button type="button" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}
