/**
 * Repository content written with the key but not by a backup: what a key holder could hand
 * someone (a support engineer sending a backup back, a bundle arriving by mail). Blobs are sealed
 * exactly as the format says, so only the rules a reader enforces beyond authentication stand in
 * the way.
 */
import { seal } from '../../src/core/crypto/aead.js';
import { blobId, storageName } from '../../src/core/crypto/ids.js';
import { blobAad, type BlobType } from '../../src/core/repo/blob.js';
import { PackBuilder } from '../../src/core/repo/pack.js';
import type { Repository } from '../../src/core/repo/repository.js';
import { META_LABELS } from '../../src/core/repo/sealed-json.js';

export interface CraftedBlob {
  readonly type: BlobType;
  readonly plain: Buffer;
  /** The id to seal it under; its keyed hash when not given. */
  readonly id?: Buffer;
}

/** Stores the blobs in one pack with an index file listing it; their ids, in hex. */
export async function storeCraftedBlobs(repo: Repository, blobs: readonly CraftedBlob[]): Promise<string[]> {
  const pack = new PackBuilder();
  const ids: string[] = [];
  for (const b of blobs) {
    const id = b.id ?? blobId(repo.keys.blobId, b.plain);
    // Flag byte 0: the plaintext stored as it is (FORMAT.md §1).
    pack.add(b.type, id, seal(repo.keys.data, blobAad(b.type, id), Uint8Array.of(0), b.plain), b.plain.length);
    ids.push(id.toString('hex'));
  }
  const parts = pack.finish(repo.keys.meta);
  const name = storageName(parts);
  await repo.backend.write('data', name, parts);
  const size = parts.reduce((n, p) => n + p.length, 0);
  const entries = pack.entries.map((e) => ({ id: e.id.toString('hex'), type: e.type, offset: e.offset, length: e.length, rawLength: e.rawLength }));
  await repo.saveJson('index', META_LABELS.index, { v: 1, packs: [{ id: name, size, blobs: entries }], supersedes: [] });
  return ids;
}

type CraftedNode =
  | { readonly type: 'dir'; readonly name: string; readonly subtree: string; readonly mode?: number }
  | { readonly type: 'file'; readonly name: string; readonly size: number; readonly content: readonly string[]; readonly mode?: number };

/** A tree blob's plaintext. */
export function treeBytes(nodes: readonly CraftedNode[]): Buffer {
  return Buffer.from(JSON.stringify({ nodes: nodes.map((n) => ({ mode: n.type === 'dir' ? 0o755 : 0o644, mtimeNs: '1700000000000000000', ...n })) }));
}

/** Saves a snapshot of `tree`; its name. */
export function saveCraftedSnapshot(repo: Repository, tree: string): Promise<string> {
  return repo.saveSnapshot({
    v: 1,
    time: new Date().toISOString(),
    hostname: 'crafted',
    appVersion: '0.1.0',
    paths: ['/crafted'],
    tree,
    parent: null,
    sourceKind: 'files',
    catalog: null,
    summary: { files: 1, dirs: 1, bytes: 0, newBytes: 0, storedBytes: 0, durationMs: 0 },
  });
}
