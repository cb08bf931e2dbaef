/**
 * The one interface every storage destination implements: a local folder,
 * S3-compatible object storage, WebDAV. The repository treats storage as a
 * flat set of immutable, named objects grouped by kind; everything it stores
 * is already encrypted (except the cleartext header, `config`), so a backend
 * never sees plaintext or keys.
 *
 * Contract, checked by the shared backend conformance tests:
 * - `write` is atomic: an object is either fully visible under its name, with
 *   exactly the bytes given, or not visible at all (a crash leaves at most
 *   invisible temporary debris that `cleanup` removes). It is durable when the
 *   promise resolves.
 * - Objects are immutable: writing a name that exists fails with a
 *   `conflict` ChatsafeError, except for `locks`, which may be replaced.
 * - `read` of a missing object fails with a `not-found` ChatsafeError.
 * - `list` may lag behind writes on eventually consistent stores; the
 *   repository never depends on seeing its own writes in a listing.
 * - Names are validated by `assertObjectName` before they reach a path or a URL.
 */
import { ChatsafeError, IntegrityError } from '../errors.js';

export const OBJECT_KINDS = ['config', 'keys', 'data', 'index', 'snapshots', 'locks'] as const;
export type ObjectKind = (typeof OBJECT_KINDS)[number];

export interface ObjectInfo {
  readonly name: string;
  readonly size: number;
}

export interface ByteRange {
  readonly offset: number;
  readonly length: number;
}

/** Reads many ranges of one kind's objects; see `StorageBackend.rangeReader`. */
export interface RangeReader {
  /** As `StorageBackend.read` with a range. */
  read(name: string, range: ByteRange, into?: Buffer): Promise<Buffer>;
  /**
   * Optional: the bytes from `offset` on into `parts`, filled in turn, in one request; resolves to
   * how many bytes were read (fewer at the object's end). A restore after a database grew reads
   * runs of pages that alternate between a few packs, and reads each pack's share of a batch this
   * way (the bytes between its runs into a part it drops) instead of a request per run.
   */
  readParts?(name: string, offset: number, parts: readonly Buffer[]): Promise<number>;
  /** Lets go of what the reader kept open; reads still running finish first. */
  close(): Promise<void>;
}

export interface StorageBackend {
  /** Where this is, for messages and the diagnostics report; never contains credentials. */
  readonly location: string;
  /** Prepares an empty destination; fails with `conflict` if a repository is already there. */
  create(): Promise<void>;
  /** Size of an object, or null when it does not exist. */
  stat(kind: ObjectKind, name: string): Promise<ObjectInfo | null>;
  list(kind: ObjectKind): AsyncIterable<ObjectInfo>;
  /**
   * With `into` (at least `range.length` bytes), a backend that reads into
   * memory of the caller's may fill it and return a view of it, so a restore
   * reuses a few buffers instead of allocating one per read. Others ignore it.
   */
  read(kind: ObjectKind, name: string, range?: ByteRange, into?: Buffer): Promise<Buffer>;
  /**
   * Optional: a reader for a run of range reads (a restore reads a pack in
   * many pieces) that may keep a few objects open between reads. It sees the
   * objects as they were when first read through it, so it lives for one
   * operation only.
   */
  rangeReader?(kind: ObjectKind): RangeReader;
  /** Optional: as `RangeReader.readParts`, for a backend without a range reader. */
  readParts?(kind: ObjectKind, name: string, offset: number, parts: readonly Buffer[]): Promise<number>;
  /**
   * Optional: how many packs a backup has written at once before its reader waits (three when
   * unset). A remote store hides each write's round trips behind the others; a local disk gains
   * nothing past two, and each pack waiting is a 4 MiB buffer held.
   */
  readonly packWritesAtOnce?: number;
  /** Atomic, durable, immutable (see the contract above). `data` may be split into parts to avoid copying. */
  write(kind: ObjectKind, name: string, data: Buffer | readonly Buffer[]): Promise<void>;
  /** Removing a missing object is not an error: prune may be re-run after a crash. */
  remove(kind: ObjectKind, name: string): Promise<void>;
  /** Removes temporary debris that interrupted writes may have left. */
  cleanup(): Promise<void>;
  close(): Promise<void>;
}

const HEX_NAME = /^[0-9a-f]{16,64}$/;

/** Object names are lowercase hex ids (16 to 64 digits), or `config` for the header. */
export function assertObjectName(kind: ObjectKind, name: string): void {
  const ok = kind === 'config' ? name === 'config' : HEX_NAME.test(name);
  if (!ok) throw new ChatsafeError('integrity', `storage: invalid object name for ${kind}: ${JSON.stringify(name.slice(0, 80))}`);
}

/** Whether a listed name is one of ours (listings skip foreign files and temporary debris). */
export function isObjectName(kind: ObjectKind, name: string): boolean {
  return kind === 'config' ? name === 'config' : HEX_NAME.test(name);
}

/** How an object is named in messages and reports: its path in a folder repository (`data/ab/ab12…`). */
export function objectPath(kind: ObjectKind, name: string): string {
  return kind === 'data' ? `data/${name.slice(0, 2)}/${name}` : kind === 'config' ? 'config' : `${kind}/${name}`;
}

/**
 * The most bytes an object of each kind can hold in a valid repository (FORMAT.md §3), checked
 * before a whole object is read into memory: a hostile or damaged folder can hold a file of any
 * size in an object's place (or a link to `/dev/zero`), and reading it whole would take memory
 * without bound. The header and key slots are a few hundred bytes; index files and snapshots are
 * sealed metadata, at most 512 MiB of plaintext (§1); a pack holds at most one tree blob of 512 MiB
 * past its 8 MiB target (§6). The margins cover sealing, the flag byte and a pack's header.
 */
const SMALL_OBJECT_MAX_BYTES = 1024 * 1024;
const LARGE_OBJECT_MAX_BYTES = 512 * 1024 * 1024 + 64 * 1024;
export const MAX_OBJECT_BYTES: Readonly<Record<ObjectKind, number>> = {
  config: SMALL_OBJECT_MAX_BYTES,
  keys: SMALL_OBJECT_MAX_BYTES,
  locks: SMALL_OBJECT_MAX_BYTES,
  index: LARGE_OBJECT_MAX_BYTES,
  snapshots: LARGE_OBJECT_MAX_BYTES,
  data: LARGE_OBJECT_MAX_BYTES,
};

const KIND_NOUNS: Readonly<Record<ObjectKind, string>> = {
  config: 'repository header',
  keys: 'key slot',
  locks: 'lock',
  index: 'index file',
  snapshots: 'snapshot',
  data: 'pack',
};

/** The error for an object larger than its kind can be (`MAX_OBJECT_BYTES`), before any of it is read. */
export function oversizedObject(kind: ObjectKind, name: string, size: number): IntegrityError {
  return new IntegrityError(objectPath(kind, name), `is ${size} bytes, more than a ${KIND_NOUNS[kind]} can be (damaged, or not written by Chatsafe)`);
}

export function totalLength(data: Buffer | readonly Buffer[]): number {
  return Buffer.isBuffer(data) ? data.length : data.reduce((n, b) => n + b.length, 0);
}
