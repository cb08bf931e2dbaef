/**
 * Linking media files named by a source to files in the source tree: the
 * path the snapshot will give them, their size and SHA-256. Paths from the
 * source are untrusted, so they are resolved strictly inside the source
 * folder: no `..`, no absolute paths, no symlinks followed out of it.
 */
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, realpathSync, type BigIntStats, type Dirent } from 'node:fs';
import { open } from 'node:fs/promises';
import { extname, isAbsolute, join, normalize, posix, relative, sep } from 'node:path';
import { throwIfCancelled } from '../errors.js';
import type { MediaRef } from '../catalog/types.js';
import type { CatalogWriter, PendingMedia } from '../catalog/writer.js';
import type { ReportCollector } from './report.js';
import { fileStateKey, sameFileState, type MediaDigests } from './media-digests.js';
import { SkeletonSet } from './skeleton-set.js';
import type { ImportOptions } from './types.js';

/** Where a source's media live and how the snapshot names them. */
export interface MediaRoot {
  /** Absolute folder the source's relative media paths start from. */
  readonly dir: string;
  /** The same folder as the snapshot names it: relative to the parent of the source path, with `/`. */
  readonly snapshotPrefix: string;
}

/**
 * The file a relative path names inside `root`, or null when the path is
 * unsafe, leaves the root, or names no regular file.
 */
export function resolveInside(root: MediaRoot, relPath: string, realRoot?: string): { abs: string; snapshotPath: string; size: number } | null {
  if (typeof relPath !== 'string' || relPath.length === 0 || relPath.length > 4096 || relPath.includes('\0')) return null;
  const unified = relPath.replace(/\\/g, '/');
  if (isAbsolute(unified) || /^[a-zA-Z]:/.test(unified)) return null;
  const norm = normalize(unified);
  if (norm === '..' || norm.startsWith(`..${sep}`) || norm.startsWith('../')) return null;
  const abs = join(root.dir, norm);
  try {
    const st = lstatSync(abs, { throwIfNoEntry: false });
    if (!st?.isFile()) return null;
    // Refuse a path whose real location (after any symlinked folder) is outside the root.
    const real = realpathSync.native(abs);
    const rel = relative(realRoot ?? realpathSync.native(root.dir), real);
    if (rel.startsWith('..') || isAbsolute(rel)) return null;
    const snapshotPath = [root.snapshotPrefix, norm.split(sep).join('/')].filter((p) => p !== '').join('/');
    return { abs, snapshotPath, size: st.size };
  } catch {
    return null;
  }
}

/** Finds the file a source's relative media path names; null when it is absent or unsafe. */
export type MediaResolver = (relPath: string) => { abs: string; snapshotPath: string; size: number } | null;

/**
 * A map that keeps only its most recently used entries, so a cache over
 * hostile or huge input cannot grow without bound.
 */
export class RecentMap<K, V> {
  private readonly map = new Map<K, V>();

  constructor(private readonly limit: number) {}

  get(key: K): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      // Map keeps insertion order: moving a hit to the end makes the first key the least recently used.
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }

  set(key: K, value: V): void {
    this.map.delete(key);
    if (this.map.size >= this.limit) this.map.delete(this.map.keys().next().value as K);
    this.map.set(key, value);
  }

  get size(): number {
    return this.map.size;
  }
}

/**
 * A resolver for one root. Recent answers are remembered: a chat database
 * names the same file from neighbouring rows (forwards, thumbnails), and each
 * answer costs a few system calls. Only recent ones, so memory does not grow
 * with the number of media messages.
 *
 * A database often names tens of thousands of files the source does not hold
 * (deleted on the phone, or not copied). Those are told apart without a system
 * call each by one listing of the root (`fileSkeletons`); a path whose skeleton
 * is listed is still resolved in full.
 */
export function rootResolver(root: MediaRoot): MediaResolver {
  let realRoot: string | undefined;
  let listed: SkeletonSet | null | undefined;
  const known = new RecentMap<string, ReturnType<MediaResolver>>(REMEMBERED_PATHS);
  return (rel) => {
    if (listed === undefined) listed = fileSkeletons(root.dir);
    // Cheaper than remembering: most paths a database names are not there.
    if (listed && typeof rel === 'string' && !listed.has(skeleton(posix.normalize(rel.replace(/\\/g, '/'))))) return null;
    let r = known.get(rel);
    if (r === undefined) {
      try {
        realRoot ??= realpathSync.native(root.dir);
      } catch {
        return null;
      }
      r = resolveInside(root, rel, realRoot);
      known.set(rel, r);
    }
    return r;
  };
}

/**
 * What is left of a relative path when every difference a file system may
 * ignore is taken out: Unicode normalization (decomposed, then non-ASCII code
 * points dropped) and letter case. Two paths that name the same file on any
 * file system have the same skeleton, so a skeleton that no file has means no
 * file; the converse does not hold, and is not needed.
 */
export function skeleton(relPath: string): string {
  // An ASCII path is its own decomposition, and most media paths are ASCII.
  // eslint-disable-next-line no-control-regex
  return (ASCII.test(relPath) ? relPath : relPath.normalize('NFD').replace(/[^\x00-\x7f]/g, '')).toLowerCase();
}

// eslint-disable-next-line no-control-regex
const ASCII = /^[\x00-\x7f]*$/;

/**
 * The skeletons of the regular files under `dir`, by '/'-separated relative
 * path; null when the listing would not be a faithful answer: a symbolic link
 * somewhere (resolution may pass through a linked folder), a folder that
 * cannot be read, or more than MAX_LISTED entries.
 */
export function fileSkeletons(dir: string): SkeletonSet | null {
  const files = new SkeletonSet();
  const pending = [''];
  let entries = 0;
  while (pending.length > 0) {
    const rel = pending.pop()!;
    let list: Dirent[];
    try {
      list = readdirSync(rel === '' ? dir : join(dir, rel), { withFileTypes: true });
    } catch {
      return null;
    }
    for (const e of list) {
      if (++entries > MAX_LISTED || e.isSymbolicLink()) return null;
      const path = rel === '' ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) pending.push(path);
      else if (e.isFile()) files.add(skeleton(path));
    }
  }
  return files;
}

/** Beyond this many entries under a media root, each path is looked up on its own instead. */
const MAX_LISTED = 500_000;

const REMEMBERED_PATHS = 10_000;
/** Digests of the files hashed last, by path (`linkMedia`); a few hundred, on the catalog thread's heap through a backup. */
const RECENT_DIGESTS = 256;

/**
 * Files hashed at once, each read through its own buffer. One at a time, a file's reads and its
 * hashing took turns, the thread idle during each read and the thread pool during each hash: the
 * 3 GiB reference export's 3,327 media files (949 MB) took 1.55-1.62 s that way with 1 MiB reads,
 * and 0.78 s four at a time with 256 KiB reads (the same 1 MiB of buffers), in less CPU (1.0
 * against 1.45 s: a 256 KiB piece is still in the processor's cache when it is hashed).
 */
const HASHES_AT_ONCE = 4;
const HASH_BUFFER_BYTES = 256 << 10;

/**
 * SHA-256 of a file, read through `buffer`. The caller hands the same buffer
 * to every file, so hashing a hundred thousand files allocates nothing per
 * read (a read stream would leave a new buffer for the collector each time).
 * A regular file's read comes back short only at its end, so a file smaller
 * than the buffer takes one read, not a second one that finds nothing.
 */
export async function sha256File(path: string, buffer: Buffer, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  const file = await open(path, 'r');
  try {
    for (;;) {
      throwIfCancelled(signal);
      const { bytesRead } = await file.read(buffer, 0, buffer.length, null);
      hash.update(buffer.subarray(0, bytesRead));
      if (bytesRead < buffer.length) break;
    }
  } finally {
    await file.close();
  }
  return hash.digest('hex');
}

const MIME_BY_EXT: Record<string, string> = {
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.png': 'image/png',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.heic': 'image/heic',
  '.mp4': 'video/mp4',
  '.mov': 'video/quicktime',
  '.3gp': 'video/3gpp',
  '.opus': 'audio/ogg',
  '.ogg': 'audio/ogg',
  '.m4a': 'audio/mp4',
  '.mp3': 'audio/mpeg',
  '.aac': 'audio/aac',
  '.amr': 'audio/amr',
  '.pdf': 'application/pdf',
  '.vcf': 'text/vcard',
  '.txt': 'text/plain',
  '.zip': 'application/zip',
  '.docx': 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  '.xlsx': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  '.tgs': 'application/x-tgsticker',
};

export function mimeFromName(name: string | null): string | null {
  if (!name) return null;
  return MIME_BY_EXT[extname(name).toLowerCase()] ?? null;
}

/** A media reference's catalog row: its file's place, size and hash when it was found and read, else what the source says. */
function mediaRow(p: PendingMedia, found: ReturnType<MediaResolver>, sha: string | null): MediaRef {
  const name = p.name || (p.relPath ? (p.relPath.split(/[\\/]/).pop() ?? null) : null);
  return { path: found && sha ? found.snapshotPath : null, name, mime: p.mime || mimeFromName(name), size: found ? found.size : p.size, sha256: sha };
}

/**
 * Takes an importer's media references while it reads the messages. One whose
 * file is not in the source gets its catalog row at once; one whose file is
 * there waits with the writer (addPendingMedia) until the message pass is
 * over, to be hashed by `linkMedia`. A chat database often names many more
 * files than the source holds (media deleted on the phone, or not copied), and
 * each reference that waited cost a write and a read of the waiting table.
 */
export class MediaLinks {
  /** References taken. */
  refs = 0;
  /** Of those, the ones whose file is not in the source. */
  missing = 0;

  constructor(
    private readonly resolve: MediaResolver | null,
    private readonly writer: Pick<CatalogWriter, 'addPendingMedia' | 'addMedia' | 'pendingMedia' | 'pendingMediaCount'>,
  ) {}

  /**
   * After the message pass: hashes the references that waited (linkMedia),
   * counts every reference taken in the report, and warns of the files the
   * source lacks, found missing now or then.
   */
  async finish(report: ReportCollector, opts: ImportOptions): Promise<void> {
    const res = await linkMedia(this.resolve, this.writer, linkOptions(opts));
    report.counts.media += this.refs;
    const missing = this.missing + res.missing;
    if (missing > 0) report.warn(`${missing} media files named by the database are not in the source (only their names are kept).`);
  }

  add(p: PendingMedia): void {
    const row = this.classify(p, (found) => this.writer.addPendingMedia(found));
    if (row) this.writer.addMedia(p.messageId, row);
  }

  /**
   * Counts a reference and returns its catalog row when its file is not in
   * the source; when it is, hands it to `wait` (to be added with
   * addPendingMedia) and returns null. For a caller that writes the rows
   * itself, inside a statement that has the connection busy.
   */
  classify(p: PendingMedia, wait: (found: PendingMedia) => void): MediaRef | null {
    this.refs += 1;
    if (this.resolve && p.relPath && this.resolve(p.relPath)) {
      wait(p);
      return null;
    }
    this.missing += 1;
    return mediaRow(p, null, null);
  }
}

/** A regular file's state for its digest key; null when it is gone or no longer a regular file. */
function lstatOrNull(abs: string): BigIntStats | null {
  const st = lstatSync(abs, { bigint: true, throwIfNoEntry: false });
  return st?.isFile() ? st : null;
}

/** linkMedia's options as an importer's own give them. */
export function linkOptions(opts: ImportOptions): Parameters<typeof linkMedia>[2] {
  return {
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.mediaDigests ? { digests: opts.mediaDigests } : {}),
    onProgress: (done, total) => opts.onProgress?.({ phase: 'hashing-media', done, total }),
  };
}

/**
 * Hashes the files of the media references that waited with the writer
 * (`MediaLinks`), adding one media row for each, in the order they were
 * added (the catalog's pages then come out the same for the same source, and
 * a backup stores only the ones that changed). Up to HASHES_AT_ONCE files are
 * read at a time, each through its own buffer, and the references are read
 * back a page at a time, so memory stays flat however many there are. A file
 * gone since it was found counts as missing. With `digests`, a file that
 * looks as it did when the last build hashed it is not read again.
 */
export async function linkMedia(
  resolve: MediaResolver | null,
  writer: Pick<CatalogWriter, 'pendingMedia' | 'pendingMediaCount' | 'addMedia'>,
  opts: { signal?: AbortSignal; onProgress?: (done: number, total: number) => void; digests?: MediaDigests } = {},
): Promise<{ linked: number; missing: number }> {
  const total = writer.pendingMediaCount;
  let linked = 0;
  let missing = 0;
  let done = 0;
  const free: Buffer[] = Array.from({ length: HASHES_AT_ONCE }, () => Buffer.allocUnsafe(HASH_BUFFER_BYTES));
  /** Files being hashed, oldest first: each row is added once those before it are. */
  const window: { p: PendingMedia; found: ReturnType<MediaResolver>; sha: Promise<string | null> }[] = [];
  const digestOf = async (abs: string, buffer: Buffer): Promise<string | null> => {
    try {
      const digests = opts.digests;
      if (!digests) return await sha256File(abs, buffer, opts.signal);
      const before = lstatOrNull(abs);
      const key = before && fileStateKey(abs, before);
      const known = key && digests.lookup(key);
      if (key && known) {
        digests.record(key, known);
        return known;
      }
      const hex = await sha256File(abs, buffer, opts.signal);
      // Recorded only for a file that looked the same after it was read: one changed meanwhile may hold other bytes.
      const after = before && lstatOrNull(abs);
      if (before && key && after && sameFileState(before, after)) digests.record(key, hex);
      return hex;
    } catch (e) {
      if ((e as { kind?: string }).kind === 'cancelled') throw e;
      return null;
    } finally {
      free.push(buffer);
    }
  };
  const hashOnce = (abs: string): Promise<string | null> => {
    const sha = digestOf(abs, free.pop()!);
    recent.set(abs, sha);
    return sha;
  };
  const addOldest = async (): Promise<void> => {
    const { p, found, sha } = window.shift()!;
    const hex = await sha;
    if (found && hex !== null) linked += 1;
    else if (!found) missing += 1;
    writer.addMedia(p.messageId, mediaRow(p, found, hex));
    if (opts.onProgress && (done % 50 === 0 || done === total - 1)) opts.onProgress(done + 1, total);
    done += 1;
  };
  // A file named by many messages (forwarded media; or a crafted export's one large file named on
  // every line, which took 20 ms a line for a 16 MiB file) is hashed once while it is recent.
  const recent = new RecentMap<string, Promise<string | null>>(RECENT_DIGESTS);
  try {
    for (const p of writer.pendingMedia()) {
      throwIfCancelled(opts.signal);
      // A file in the window holds at most one buffer, so one is free whenever the window has room.
      while (window.length >= HASHES_AT_ONCE) await addOldest();
      const found = resolve && p.relPath ? resolve(p.relPath) : null;
      const sha = found ? (recent.get(found.abs) ?? hashOnce(found.abs)) : Promise.resolve(null);
      // Handled at once, so a cancel that fails it while an older one is awaited is not an unhandled rejection.
      sha.catch(() => undefined);
      window.push({ p, found, sha });
    }
    while (window.length > 0) await addOldest();
  } finally {
    // After a cancel or a failed write, no read may go on into a buffer, or a file stay open.
    await Promise.allSettled(window.map((w) => w.sha));
  }
  return { linked, missing };
}
