import type { BlobType } from '../repo/blob.js';

export interface CryptoWorkerData {
  readonly dataKey: Uint8Array;
  readonly blobIdKey: Uint8Array;
  /** Ids the repository already holds (a KnownIdTable's buffer), when backing up. */
  readonly knownIds?: SharedArrayBuffer;
}

export type CryptoRequest =
  | { op: 'seal'; type: BlobType; id: Uint8Array; data: ArrayBuffer; compress: boolean }
  /** Chunks laid end to end in `data`: hash each; seal those the repository does not hold. */
  | { op: 'store'; type: BlobType; data: ArrayBuffer; lengths: number[]; compress: boolean }
  | { op: 'open'; type: BlobType; id: Uint8Array; sealed: ArrayBuffer; rawLength: number; object: string; verifyId: boolean; returnData: boolean }
  | { op: 'sha256'; parts: ArrayBuffer[] }
  | { op: 'open-batch'; sealed: ArrayBuffer; blobs: BatchBlob[]; object: string; verifyId: boolean; returnData: boolean };

/** One blob inside a buffer of adjacent sealed blobs (offsets relative to that buffer). */
export interface BatchBlob {
  readonly type: BlobType;
  readonly id: Uint8Array;
  readonly offset: number;
  readonly length: number;
  readonly rawLength: number;
}

export type CryptoResponse =
  | { op: 'seal'; sealed: ArrayBuffer }
  /** ids: 32 bytes per chunk; sealed[i] is null for a chunk the repository already holds. */
  | { op: 'store'; ids: ArrayBuffer; sealed: (ArrayBuffer | null)[] }
  | { op: 'open'; data: ArrayBuffer }
  | { op: 'sha256'; hex: string; parts: ArrayBuffer[] }
  | { op: 'open-batch'; data: ArrayBuffer }
  | { op: 'error'; kind: string; object: string; message: string };
