/**
 * Linking media files named by a source to files in the source tree: the
 * path the snapshot will give them, their size and SHA-256. Paths from the
 * source are untrusted, so they are resolved strictly inside the source
 * folder: no `..`, no absolute paths, no symlinks followed out of it.
 */
import { createHash } from 'node:crypto';
import { createReadStream, lstatSync, realpathSync } from 'node:fs';
import { extname, isAbsolute, join, normalize, relative, sep } from 'node:path';
import { throwIfCancelled } from '../errors.js';
import type { MediaRef } from '../catalog/types.js';

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
 * A resolver for one root. Answers are remembered: a chat database names the
 * same file from many rows (forwards, thumbnails), and each answer costs a
 * few system calls.
 */
export function rootResolver(root: MediaRoot): MediaResolver {
  let realRoot: string | undefined;
  const known = new Map<string, ReturnType<MediaResolver>>();
  return (rel) => {
    let r = known.get(rel);
    if (r === undefined) {
      try {
        realRoot ??= realpathSync.native(root.dir);
      } catch {
        return null;
      }
      r = resolveInside(root, rel, realRoot);
      if (known.size < MAX_REMEMBERED) known.set(rel, r);
    }
    return r;
  };
}

const MAX_REMEMBERED = 1_000_000;

export async function sha256File(path: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    throwIfCancelled(signal);
    hash.update(chunk as Buffer);
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

/** A media reference waiting for its file to be hashed (done after the message pass). */
export interface PendingMedia {
  readonly messageId: number;
  readonly relPath: string | null;
  readonly name: string | null;
  readonly mime: string | null;
  readonly size: number | null;
}

/**
 * Resolves and hashes pending media, calling `add` for each. Files are
 * hashed one at a time, so memory stays flat however many there are.
 */
export async function linkMedia(
  resolve: MediaResolver | null,
  pending: readonly PendingMedia[],
  add: (messageId: number, ref: MediaRef) => void,
  opts: { signal?: AbortSignal; onProgress?: (done: number, total: number) => void } = {},
): Promise<{ linked: number; missing: number }> {
  let linked = 0;
  let missing = 0;
  for (let i = 0; i < pending.length; i++) {
    const p = pending[i]!;
    throwIfCancelled(opts.signal);
    const found = resolve && p.relPath ? resolve(p.relPath) : null;
    let sha: string | null = null;
    if (found) {
      try {
        sha = await sha256File(found.abs, opts.signal);
        linked += 1;
      } catch (e) {
        if ((e as { kind?: string }).kind === 'cancelled') throw e;
        sha = null;
      }
    } else missing += 1;
    const name = p.name || (p.relPath ? (p.relPath.split(/[\\/]/).pop() ?? null) : null);
    add(p.messageId, {
      path: found && sha ? found.snapshotPath : null,
      name,
      mime: p.mime || mimeFromName(name),
      size: found ? found.size : p.size,
      sha256: sha,
    });
    if (opts.onProgress && (i % 50 === 0 || i === pending.length - 1)) opts.onProgress(i + 1, pending.length);
  }
  return { linked, missing };
}
