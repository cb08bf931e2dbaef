/**
 * zstd for blob and metadata payloads. A payload starts with one flag byte
 * (inside the encryption, so it is authenticated): 0 = stored, 1 = zstd.
 * Decompression writes into a buffer of exactly the recorded raw length, so a
 * hostile payload cannot expand beyond what the (authenticated) index says.
 */
import { createRequire } from 'node:module';
import { CDC_PARAMS } from '../chunking/fastcdc.js';
import { IntegrityError } from '../errors.js';
import type { JsonDocument } from './json-bytes.js';
import { ScratchBuffer } from './scratch-buffer.js';

interface ZstdBinding {
  CCtx: new () => {
    compress(dst: Uint8Array, src: Uint8Array, level: number): number;
    reset(directive: number): void;
    setParameter(param: number, value: number): void;
    setPledgedSrcSize(size: number): void;
    /** [bytes left to flush, bytes written to dst, bytes read from src] */
    compressStream2(dst: Uint8Array, src: Uint8Array, endOp: number): [number, number, number];
  };
  CParameter: { compressionLevel: number };
  EndDirective: { continue: number; end: number };
  ResetDirective: { sessionAndParameters: number };
  DCtx: new () => {
    decompress(dst: Uint8Array, src: Uint8Array): number;
    /** [0 once a frame is whole, bytes written to dst, bytes read from src] */
    decompressStream(dst: Uint8Array, src: Uint8Array): [number, number, number];
  };
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

/** Compresses when it saves at least 1/16 of the size; otherwise the data is stored as is. For metadata, which comes once in a while. */
export function maybeCompress(data: Uint8Array): { flag: number; body: Uint8Array } {
  const r = maybeCompressView(data, LEVEL, false);
  return r.flag === FLAG_ZSTD ? { flag: FLAG_ZSTD, body: Buffer.from(r.body) } : r;
}

/**
 * Like `maybeCompress`, but a compressed body is a view of a scratch buffer
 * that the next call overwrites: for callers that seal it at once.
 * `growScratch: false` for data that comes once in a while (see ScratchBuffer.take).
 */
export function maybeCompressView(data: Uint8Array, level = LEVEL, growScratch = true): { flag: number; body: Uint8Array } {
  cctx ??= new zstd.CCtx();
  const out = scratch.take(zstd.compressBound(data.length), growScratch);
  const n = cctx.compress(out, data, level);
  if (n > data.length - (data.length >> 4)) return { flag: FLAG_STORED, body: data };
  return { flag: FLAG_ZSTD, body: out.subarray(0, n) };
}

let streamCtx: InstanceType<ZstdBinding['CCtx']> | undefined;
/** A compressed document is handed out in pieces of this size (zstd's own output step). */
const STREAM_PIECE_BYTES = 128 * 1024;

/**
 * Compresses a document as it is written, for metadata too large to hold twice (an index file of
 * a database's pages is 7 MiB of JSON): one frame, with the document's length in its header as a
 * one-shot compression writes it, handed to `sink` a piece at a time through one buffer (a piece
 * is valid only during the call). Returns false, as soon as the output passes that, when it would
 * not save 1/16 of the size: the caller then stores the document as it is, and drops what `sink`
 * was given.
 */
export function compressDocumentTo(doc: JsonDocument, sink: (piece: Uint8Array) => void, level = LEVEL): boolean {
  const limit = doc.byteLength - (doc.byteLength >> 4);
  const ctx = (streamCtx ??= new zstd.CCtx());
  ctx.reset(zstd.ResetDirective.sessionAndParameters);
  ctx.setParameter(zstd.CParameter.compressionLevel, level);
  ctx.setPledgedSrcSize(doc.byteLength);
  const out = Buffer.allocUnsafeSlow(STREAM_PIECE_BYTES);
  let used = 0;
  let total = 0;
  const step = (src: Uint8Array, endOp: number): [number, number] => {
    const [left, written, read] = ctx.compressStream2(out.subarray(used), src, endOp);
    used += written;
    total += written;
    if (used === out.length) {
      sink(out);
      used = 0;
    }
    return [left, read];
  };
  const tooLarge = new Error('incompressible');
  try {
    doc.writeTo((piece) => {
      for (let at = 0; at < piece.length; ) {
        at += step(piece.subarray(at), zstd.EndDirective.continue)[1];
        if (total > limit) throw tooLarge;
      }
    });
    while (step(EMPTY, zstd.EndDirective.end)[0] > 0) if (total > limit) throw tooLarge;
  } catch (e) {
    if (e === tooLarge) return false;
    throw e;
  }
  if (total > limit) return false;
  if (used > 0) sink(out.subarray(0, used));
  return true;
}
const EMPTY = new Uint8Array(0);

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
  const body = payload.subarray(1);
  let size: number | null;
  try {
    size = zstd.getFrameContentSize(body);
  } catch {
    throw new IntegrityError(object, 'is not a zstd frame');
  }
  if (size === null) return decompressUnsized(body, limit, object);
  if (size > limit) throw new IntegrityError(object, 'metadata is larger than allowed');
  return decodePayload(payload, size, object);
}

/**
 * A frame that does not record its length: valid (FORMAT.md §1 takes any frame), though this
 * writer always records it. Decompressed in steps, and refused as soon as it passes `limit`.
 */
function decompressUnsized(body: Uint8Array, limit: number, object: string): Buffer {
  const ctx = new zstd.DCtx();
  const pieces: Buffer[] = [];
  let total = 0;
  let at = 0;
  for (;;) {
    const out = Buffer.allocUnsafe(STREAM_PIECE_BYTES);
    let left: number;
    let produced: number;
    let read: number;
    try {
      [left, produced, read] = ctx.decompressStream(out, body.subarray(at));
    } catch {
      throw new IntegrityError(object, 'compressed data does not decompress');
    }
    at += read;
    total += produced;
    if (total > limit) throw new IntegrityError(object, 'metadata is larger than allowed');
    pieces.push(out.subarray(0, produced));
    if (left === 0) break;
    if (at === body.length && produced < out.length) throw new IntegrityError(object, 'compressed data ends early');
  }
  if (at !== body.length) throw new IntegrityError(object, 'data follows the compressed frame');
  return Buffer.concat(pieces, total);
}
