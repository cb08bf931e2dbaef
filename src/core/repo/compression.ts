/**
 * zstd for blob and metadata payloads. A payload starts with one flag byte
 * (inside the encryption, so it is authenticated): 0 = stored, 1 = zstd.
 * Decompression writes into a buffer of exactly the recorded raw length, so a
 * hostile payload cannot expand beyond what the (authenticated) index says.
 */
import { createRequire } from 'node:module';
import { CDC_PARAMS } from '../chunking/fastcdc.js';
import { IntegrityError } from '../errors.js';
import { ScratchBuffer } from './scratch-buffer.js';

interface ZstdBinding {
  CCtx: new () => { compress(dst: Uint8Array, src: Uint8Array, level: number): number };
  DCtx: new () => { decompress(dst: Uint8Array, src: Uint8Array): number };
  compressBound(n: number): number;
  getFrameContentSize(frame: Uint8Array): number | null;
}
const zstd = createRequire(import.meta.url)('zstd-napi/binding') as ZstdBinding;

export const FLAG_STORED = 0;
export const FLAG_ZSTD = 1;
/**
 * Metadata (trees, index files, snapshots) and bundles: level 1. Their bulk
 * is hex ids, which only entropy coding shrinks, and zstd's negative levels
 * leave literals uncoded.
 */
export const LEVEL = 1;
/**
 * File chunks: zstd's first fast level. A chat database is stored page by
 * page, so this runs once per 4 KiB. On the benchmark's database it
 * compresses 417 MB/s against level 1's 227 and decompresses 2.6 times as
 * fast, for a ratio of 1.42 against 1.55: it was the largest single cost of
 * a backup's crypto worker and a fifth of a restore's.
 */
export const DATA_LEVEL = -1;

let cctx: InstanceType<ZstdBinding['CCtx']> | undefined;
/** Reused output buffer: most attempts on unknown data do not pay, and then nothing is allocated. */
const scratch = new ScratchBuffer(zstd.compressBound(CDC_PARAMS.max));
let dctx: InstanceType<ZstdBinding['DCtx']> | undefined;

/** Compresses when it saves at least 1/16 of the size; otherwise the data is stored as is. */
export function maybeCompress(data: Uint8Array): { flag: number; body: Uint8Array } {
  const r = maybeCompressView(data);
  return r.flag === FLAG_ZSTD ? { flag: FLAG_ZSTD, body: Buffer.from(r.body) } : r;
}

/**
 * Like `maybeCompress`, but a compressed body is a view of a scratch buffer
 * that the next call overwrites: for callers that seal it at once.
 */
export function maybeCompressView(data: Uint8Array, level = LEVEL): { flag: number; body: Uint8Array } {
  cctx ??= new zstd.CCtx();
  const out = scratch.take(zstd.compressBound(data.length));
  const n = cctx.compress(out, data, level);
  if (n > data.length - (data.length >> 4)) return { flag: FLAG_STORED, body: data };
  return { flag: FLAG_ZSTD, body: out.subarray(0, n) };
}

/** `payload` is flag || body; returns exactly rawLength bytes or throws IntegrityError naming `object`. */
export function decodePayload(payload: Buffer, rawLength: number, object: string): Buffer {
  const flag = payload[0];
  const body = payload.subarray(1);
  if (flag === FLAG_STORED) {
    if (body.length !== rawLength) throw new IntegrityError(object, `length ${body.length} differs from the recorded ${rawLength}`);
    return body;
  }
  if (flag === FLAG_ZSTD) {
    const out = Buffer.allocUnsafe(rawLength);
    decompressInto(body, out, object);
    return out;
  }
  throw new IntegrityError(object, 'unknown payload encoding');
}

/** Decompresses a zstd body into exactly `out` (the recorded raw length), or throws IntegrityError naming `object`. */
export function decompressInto(body: Uint8Array, out: Uint8Array, object: string): void {
  dctx ??= new zstd.DCtx();
  let n: number;
  try {
    n = dctx.decompress(out, body);
  } catch {
    throw new IntegrityError(object, 'compressed data does not decompress to the recorded length');
  }
  if (n !== out.length) throw new IntegrityError(object, `decompressed length ${n} differs from the recorded ${out.length}`);
}

/** For metadata whose size is not recorded elsewhere: bounded by `limit`. */
export function decodeBoundedPayload(payload: Buffer, limit: number, object: string): Buffer {
  const flag = payload[0];
  if (flag === FLAG_STORED) return payload.subarray(1);
  if (flag !== FLAG_ZSTD) throw new IntegrityError(object, 'unknown payload encoding');
  const size = zstd.getFrameContentSize(payload.subarray(1));
  if (size === null || size > limit) throw new IntegrityError(object, 'metadata is larger than allowed');
  return decodePayload(payload, size, object);
}
