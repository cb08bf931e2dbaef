/**
 * Browsing the chats inside a `.chatsafe` bundle, as Inspect does for a
 * repository snapshot. A bundle is one authenticated stream (manifest, every
 * file, then the catalog, then the end record), so it is read once, front to
 * back: the catalog, and the files the catalog names as media, are written
 * into a private temporary folder (0700, files 0600, as the core does for a
 * repository's catalog), and nothing is used before the whole stream has been
 * authenticated up to its end record. The folder is removed when done.
 */
import Database from 'better-sqlite3';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BundlePayload, readBundleInfo } from '../core/bundle/read.js';
import { openCatalog, type Catalog } from '../core/catalog/catalog.js';
import { MAX_MEDIA_BYTES, type MediaReader } from '../core/catalog/snapshot-catalog.js';
import { ChatsafeError, IntegrityError, throwIfCancelled } from '../core/errors.js';
import { readZipMedia } from '../core/importers/import-export-text.js';
import type { Credential } from '../core/repo/repository.js';
import { SnapshotSchema, type SnapshotRecord } from '../core/repo/snapshot.js';

/** The one snapshot a bundle holds (reads only its manifest, at the front). */
export async function readBundleSnapshot(path: string, credential: Credential): Promise<SnapshotRecord> {
  const payload = await BundlePayload.open(await readBundleInfo(path), credential);
  try {
    const manifest = await payload.readManifest();
    const snapshot = SnapshotSchema.safeParse(manifest.snapshot);
    if (!snapshot.success) throw new IntegrityError(path, 'the snapshot record in the manifest is malformed');
    return { id: manifest.snapshotId, snapshot: snapshot.data };
  } finally {
    await payload.close();
  }
}

export async function withBundleCatalog<T>(path: string, credential: Credential, fn: (catalog: Catalog, readMedia: MediaReader) => Promise<T>, signal?: AbortSignal): Promise<T> {
  const payload = await BundlePayload.open(await readBundleInfo(path), credential, undefined, signal);
  const dir = await fs.mkdtemp(join(tmpdir(), 'chatsafe-bundle-'));
  try {
    await fs.chmod(dir, 0o700);
    const manifest = await payload.readManifest();
    if (manifest.catalogSize === null) {
      throw new ChatsafeError('not-found', 'This bundle has no chat catalog: its snapshot was backed up as plain files.', 'Restore the bundle to a folder to see its files.');
    }
    // Every file goes to disk as it streams past (the catalog, which says which are media, comes last); the others are removed after.
    const kept = new Map<string, string>();
    let n = 0;
    for (const e of manifest.entries) {
      if (e.type !== 'file') continue;
      throwIfCancelled(signal);
      const keep = e.size <= MAX_MEDIA_BYTES;
      const local = join(dir, `f${n++}`);
      await copyContent(payload, e.size, keep ? local : null);
      if (keep) kept.set(e.path, local);
    }
    const catalogPath = join(dir, 'catalog.sqlite');
    await copyContent(payload, manifest.catalogSize, catalogPath);
    await payload.readEnd(manifest.entries.length);
    await dropUnreferenced(catalogPath, kept);
    const catalog = openCatalog(catalogPath);
    try {
      return await fn(catalog, (p) => readKept(kept, p));
    } finally {
      catalog.close();
    }
  } finally {
    await payload.close();
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/** Streams one content item of the payload into a new private file, or past it when `to` is null. */
async function copyContent(payload: BundlePayload, size: number, to: string | null): Promise<void> {
  const fh = to === null ? null : await fs.open(to, 'wx', 0o600);
  try {
    for await (const plain of payload.content(size)) if (fh) await fh.write(plain);
  } finally {
    await fh?.close();
  }
}

/** Files the catalog does not name as media (the chat database itself, mostly) are deleted: the folder holds media only. */
async function dropUnreferenced(catalogPath: string, kept: Map<string, string>): Promise<void> {
  const db = new Database(catalogPath, { readonly: true, fileMustExist: true });
  let paths: string[];
  try {
    paths = (db.prepare('SELECT DISTINCT path FROM media WHERE path IS NOT NULL').all() as { path: string }[]).map((r) => r.path);
  } finally {
    db.close();
  }
  const used = new Set<string>();
  for (const p of paths) {
    const file = fileOf(kept, p);
    if (file) used.add(file.path);
  }
  for (const [path, local] of [...kept]) {
    if (used.has(path)) continue;
    kept.delete(path);
    await fs.rm(local, { force: true });
  }
}

/** The kept file a media path names: the file itself, or a zip holding it ("chat.zip/IMG-1.jpg"). */
function fileOf(kept: Map<string, string>, pathInSnapshot: string): { path: string; inner: string | null } | null {
  const parts = pathInSnapshot.split('/').filter((p) => p.length > 0);
  if (parts.some((p) => p === '.' || p === '..')) return null;
  for (let i = parts.length; i >= 1; i--) {
    const path = parts.slice(0, i).join('/');
    if (kept.has(path)) return { path, inner: i === parts.length ? null : parts.slice(i).join('/') };
  }
  return null;
}

async function readKept(kept: Map<string, string>, pathInSnapshot: string): Promise<Buffer | null> {
  const f = fileOf(kept, pathInSnapshot);
  if (!f) return null;
  const data = await fs.readFile(kept.get(f.path)!);
  return f.inner === null ? data : readZipMedia(data, f.inner);
}
