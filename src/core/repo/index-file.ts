/**
 * The index: which pack holds each blob, and where. Index files are written
 * after the packs they describe (so an index never points at a missing pack),
 * periodically during a backup (so an interrupted backup resumes without
 * uploading again what already landed), and consolidated by prune.
 */
import { z } from 'zod';
import { IntegrityError } from '../errors.js';
import { BLOB_TYPES, MAX_BLOB_BYTES, type BlobType } from './blob.js';
import type { PackEntry } from './pack.js';

const hex64 = z.string().regex(/^[0-9a-f]{64}$/);

export const IndexFileSchema = z
  .object({
    v: z.literal(1),
    packs: z.array(
      z
        .object({
          id: hex64,
          size: z.number().int().positive(),
          blobs: z.array(
            z
              .object({
                id: hex64,
                type: z.enum(Object.keys(BLOB_TYPES) as [BlobType, ...BlobType[]]),
                offset: z.number().int().nonnegative(),
                length: z.number().int().positive(),
                rawLength: z.number().int().nonnegative().max(MAX_BLOB_BYTES),
              })
              .strict(),
          ),
        })
        .strict(),
    ),
    /** Index files whose content this one includes; prune deletes them after writing it. */
    supersedes: z.array(hex64).default([]),
  })
  .strict();
export type IndexFile = z.infer<typeof IndexFileSchema>;

export interface BlobLocation {
  readonly pack: string;
  readonly type: BlobType;
  readonly offset: number;
  readonly length: number;
  readonly rawLength: number;
}

export interface PackRecord {
  readonly id: string;
  readonly size: number;
  readonly entries: readonly PackEntry[];
}

/** All index files merged in memory: blob id (hex) → location, plus per-pack sizes. */
export class MasterIndex {
  readonly blobs = new Map<string, BlobLocation>();
  readonly packs = new Map<string, { size: number; blobCount: number }>();
  /** Every blob each pack holds, including duplicates the blob map leaves out (prune needs them). */
  readonly packBlobs = new Map<string, Array<{ id: string } & BlobLocation>>();
  readonly files = new Set<string>();

  addFile(name: string, file: IndexFile): void {
    this.files.add(name);
    for (const p of file.packs) {
      // One object per blob, shared by the blob map and the pack's list: an index of a few hundred
      // thousand blobs is most of a backup's memory.
      const blobs = p.blobs.map((b) => {
        if (b.offset + b.length > p.size) throw new IntegrityError(`index/${name}`, `blob ${b.id.slice(0, 16)} lies outside its pack`);
        return { id: b.id, pack: p.id, type: b.type, offset: b.offset, length: b.length, rawLength: b.rawLength };
      });
      this.addBlobs(p.id, p.size, blobs);
    }
  }

  addPack(record: PackRecord): void {
    this.addBlobs(
      record.id,
      record.size,
      record.entries.map((e) => ({ id: e.id.toString('hex'), pack: record.id, type: e.type, offset: e.offset, length: e.length, rawLength: e.rawLength })),
    );
  }

  private addBlobs(pack: string, size: number, blobs: Array<{ id: string } & BlobLocation>): void {
    for (const b of blobs) if (!this.blobs.has(b.id)) this.blobs.set(b.id, b);
    this.packs.set(pack, { size, blobCount: blobs.length });
    this.packBlobs.set(pack, blobs);
  }

  has(id: string): boolean {
    return this.blobs.has(id);
  }

  get(id: string): BlobLocation | undefined {
    return this.blobs.get(id);
  }
}

export function indexFileFor(packs: readonly PackRecord[], supersedes: readonly string[] = []): IndexFile {
  return {
    v: 1,
    packs: packs.map((p) => ({
      id: p.id,
      size: p.size,
      blobs: p.entries.map((e) => ({ id: e.id.toString('hex'), type: e.type, offset: e.offset, length: e.length, rawLength: e.rawLength })),
    })),
    supersedes: [...supersedes],
  };
}

/** Index files that another present file says it includes. */
export function supersededIn(files: ReadonlyMap<string, IndexFile>): Set<string> {
  const out = new Set<string>();
  for (const [name, f] of files) for (const old of f.supersedes) if (old !== name && files.has(old)) out.add(old);
  return out;
}
