/**
 * The chat catalog of a snapshot, for browsing and search without restoring:
 * its blobs are authenticated and written to a private temporary file (mode
 * 0600 in a 0700 folder), opened read-only, and removed when done. Media are
 * read from the snapshot's tree by the path the catalog records.
 */
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChatsafeError, IntegrityError } from '../errors.js';
import type { BlobIndex } from '../repo/master-index.js';
import type { Repository } from '../repo/repository.js';
import type { SnapshotRecord } from '../repo/snapshot.js';
import type { ChunkList } from '../repo/chunk-list.js';
import { ChunkPlaces } from '../restore/chunk-places.js';
import { withChunks } from '../restore/chunk-stream.js';
import { openCatalog, type Catalog } from './catalog.js';
import { readZipMedia } from '../importers/import-export-text.js';

/** Reads a file of the snapshot by its path inside it ("WhatsApp/Media/…"); null when absent. */
export type MediaReader = (pathInSnapshot: string) => Promise<Buffer | null>;

/** Media larger than this are not loaded into memory for previews and HTML export. */
export const MAX_MEDIA_BYTES = 256 * 1024 * 1024;

export async function withSnapshotCatalog<T>(repo: Repository, snap: SnapshotRecord, fn: (catalog: Catalog, readMedia: MediaReader) => Promise<T>): Promise<T> {
  const entry = snap.snapshot.catalog;
  if (!entry) {
    throw new ChatsafeError(
      'not-found',
      `Snapshot ${snap.id.slice(0, 8)} has no chat catalog: it was backed up as plain files.`,
      'Back up a phone export Chatsafe recognises (see `chatsafe detect PATH`) to browse and search it.',
    );
  }
  const index = await repo.loadIndex();
  const dir = await fs.mkdtemp(join(tmpdir(), 'chatsafe-catalog-'));
  await fs.chmod(dir, 0o700);
  const path = join(dir, 'catalog.sqlite');
  try {
    const fh = await fs.open(path, 'wx', 0o600);
    try {
      const size = await writeContent(repo, index, entry, fh);
      if (size !== entry.size) throw new IntegrityError(`snapshot ${snap.id.slice(0, 8)}`, `its catalog has ${size} bytes, the snapshot records ${entry.size}`);
    } finally {
      await fh.close();
    }
    const catalog = openCatalog(path);
    try {
      return await fn(catalog, (p) => readSnapshotFile(repo, index, snap, p));
    } finally {
      catalog.close();
    }
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/**
 * Writes a file's chunks to `fh` as a restore does (`openChunks`), a batch at a time: read blob by
 * blob on this thread, the 1 GiB bench export's catalog (a SQLite file, stored page by page) took
 * about 2.5 s to appear before a chat could be listed.
 */
async function writeContent(repo: Repository, index: BlobIndex, file: { readonly content: ChunkList }, fh: fs.FileHandle): Promise<number> {
  return withChunks(repo, ChunkPlaces.resolve([file], index), undefined, async (chunks) => {
    let size = 0;
    // Each piece is valid until the next: written first.
    for await (const data of chunks.pieces(file.content.length)) {
      await fh.write(data);
      size += data.length;
    }
    return size;
  });
}

export async function readSnapshotFile(repo: Repository, index: BlobIndex, snap: SnapshotRecord, pathInSnapshot: string): Promise<Buffer | null> {
  const parts = pathInSnapshot.split('/').filter((p) => p.length > 0);
  if (parts.length === 0 || parts.some((p) => p === '.' || p === '..')) return null;
  let treeId = snap.snapshot.tree;
  for (let i = 0; i < parts.length; i++) {
    const tree = await repo.loadTree(index, treeId);
    const node = tree.nodes.find((n) => n.name === parts[i]);
    if (!node) return null;
    if (node.type === 'file' && node.size <= MAX_MEDIA_BYTES) {
      const chunks: Buffer[] = [];
      for (const id of node.content) chunks.push(await repo.readBlob(index, 'data', id));
      const data = Buffer.concat(chunks);
      if (data.length !== node.size) throw new IntegrityError(`file ${pathInSnapshot}`, `has ${data.length} bytes, the snapshot records ${node.size}`);
      if (i === parts.length - 1) return data;
      // An attachment inside an "Export chat" zip: the snapshot keeps the zip whole.
      return readZipMedia(data, parts.slice(i + 1).join('/'));
    }
    if (node.type !== 'dir') return null;
    treeId = node.subtree;
  }
  return null;
}
