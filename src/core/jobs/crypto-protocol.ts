import type { BlobType } from '../repo/blob.js';
import type { IndexedIdBuffers } from '../repo/indexed-ids.js';
import type { BatchBlobs } from './batch-blobs.js';

export interface CryptoWorkerData {
  readonly dataKey: Uint8Array;
  readonly blobIdKey: Uint8Array;
  /** For sealing the headers of the packs a backup assembles in the worker. */
  readonly metaKey?: Uint8Array;
  /** Pack size to aim for when assembling packs. */
  readonly packTarget?: number;
  /** The index's ids, shared, when backing up (see `repo/indexed-ids.ts`). */
  readonly indexedIds?: IndexedIdBuffers;
}

/** What goes to a worker. Buffers move with the message (its transfer list) and come back in the answer. */
export interface Envelope {
  readonly seq: number;
  readonly req: CryptoRequest;
}

/**
 * `spare` in the pack requests: buffers of packs already written, handed back
 * so the worker builds its next packs in them. Memory then stays bounded by
 * how many packs are in flight instead of by when the garbage collector next
 * frees a pack the main thread is done with.
 */
export type CryptoRequest =
  /**
   * Chunks laid end to end in `data`: hash each, and seal those neither the
   * repository nor this worker holds into the worker's current pack. `data`
   * comes back for reuse.
   */
  | { op: 'pack-store'; type: BlobType; data: ArrayBuffer; lengths: number[]; compress: boolean; spare: ArrayBuffer[] }
  /**
   * One blob whose id the caller computed (a directory listing), into the worker's current pack;
   * `alone`: into a pack of its own, handed over at once (a chunk list, see BlobSaver.save).
   */
  | { op: 'pack-put'; type: BlobType; id: Uint8Array; data: ArrayBuffer; length: number; compress: boolean; spare: ArrayBuffer[]; alone: boolean }
  /** Finishes the worker's partly filled packs. */
  | { op: 'pack-finish' }
  | { op: 'sha256'; parts: ArrayBuffer[] }
  /**
   * `objects`: the packs the blobs were read from (`blobs.sources` indexes them), named in messages.
   * `inPlace`: the plaintexts are written into `sealed` itself, whose seals begin this far in (`InPlaceRoom`).
   * `sealed` is moved to the worker and back, unless it is shared memory (`BufferRing`).
   */
  | { op: 'open-batch'; sealed: ArrayBuffer | SharedArrayBuffer; blobs: BatchBlobs; objects: string[]; verifyId: boolean; returnData: boolean; inPlace?: number };

export type CryptoResponse =
  /** ids: 32 bytes per chunk; packs: the packs that filled up meanwhile. */
  | { op: 'pack-store'; ids: ArrayBuffer; data: ArrayBuffer; packs: PackMessage[] }
  | { op: 'packs'; packs: PackMessage[] }
  | { op: 'sha256'; hex: string; parts: ArrayBuffer[] }
  /** The plaintexts are the first `length` bytes of `data` (`sealed` itself when opened in place). */
  | { op: 'open-batch'; data: ArrayBuffer | SharedArrayBuffer; length: number }
  | { op: 'error'; kind: string; object: string; message: string };

/**
 * A finished pack: the first `length` bytes of `buffer`. Its name, the
 * SHA-256 of those bytes, is computed by the receiver (off the worker, which
 * is a backup's busiest thread).
 */
export interface PackMessage {
  readonly buffer: ArrayBuffer;
  readonly length: number;
  /** Its plain header, for the index. */
  readonly entries: ArrayBuffer;
}
