/**
 * Errors the core raises on purpose. Each carries a message written for the
 * person in front of the screen and a hint saying what to do next; none of
 * them ever carries key material. Fronts (CLI, IPC, HTTP) map `kind` to their
 * own vocabulary: the CLI maps it to exit codes.
 */
export type ErrorKind =
  | 'usage' // the request itself is malformed: bad arguments, bad options
  | 'wrong-key' // a key or password that does not open this repository or bundle
  | 'integrity' // data is damaged or was tampered with
  | 'not-found' // a repository, snapshot, file or object that is not there
  | 'conflict' // something is in the way: a lock held by another writer, an existing file
  | 'cancelled' // the user asked us to stop
  | 'unsupported' // a format version or feature we do not know
  | 'io' // the storage or file system failed
  | 'locked-out'; // the vault destroyed the key after too many wrong guesses

export class ChatsafeError extends Error {
  readonly kind: ErrorKind;
  readonly hint: string | undefined;
  constructor(kind: ErrorKind, message: string, hint?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ChatsafeError';
    this.kind = kind;
    this.hint = hint;
  }
}

export class UsageError extends ChatsafeError {
  constructor(message: string, hint?: string) {
    super('usage', message, hint);
    this.name = 'UsageError';
  }
}

export class WrongKeyError extends ChatsafeError {
  /** Set when exactly one mistyped digit explains the failure. */
  readonly suggestion: KeyTypoSuggestion | undefined;
  /** For password slots: how many guesses the vault still allows. */
  readonly attemptsLeft: number | undefined;
  constructor(message: string, hint?: string, extra?: { suggestion?: KeyTypoSuggestion; attemptsLeft?: number }) {
    super('wrong-key', message, hint);
    this.name = 'WrongKeyError';
    this.suggestion = extra?.suggestion;
    this.attemptsLeft = extra?.attemptsLeft;
  }
}

export interface KeyTypoSuggestion {
  /** 1-based group of four digits. */
  readonly group: number;
  /** 1-based position inside the group. */
  readonly digit: number;
  /** What the user typed at that place. */
  readonly typed: string;
  /** The digit that makes the key open the repository. */
  readonly suggested: string;
}

export class IntegrityError extends ChatsafeError {
  /** The damaged object, as `kind/name` (for example `data/3f/3f9a...`), never plaintext. */
  readonly object: string;
  constructor(object: string, message: string, hint?: string) {
    super('integrity', `${object}: ${message}`, hint ?? 'The backup is damaged or was modified. Run `chatsafe check --read-data` to see everything that is affected; restore from another copy if you have one.');
    this.name = 'IntegrityError';
    this.object = object;
  }
}

export class CancelledError extends ChatsafeError {
  constructor(message = 'Cancelled.') {
    super('cancelled', message, 'Nothing half-written was kept; run the command again when you are ready.');
    this.name = 'CancelledError';
  }
}

export function isChatsafeError(e: unknown): e is ChatsafeError {
  return e instanceof ChatsafeError;
}

/** Throws CancelledError when the signal has fired; call between units of work. */
export function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new CancelledError();
}
