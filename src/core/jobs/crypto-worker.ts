/**
 * Worker thread for the CPU-heavy per-blob work (compress + seal when
 * backing up, open + decompress when restoring, verify when checking), so it
 * runs on every core while the main thread reads, chunks and writes. Keys
 * arrive once in workerData; buffers move by transfer, except a restore's
 * batches, which are shared memory (`BufferRing`).
 */
import { createHash } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import { blobId, ID_BYTES } from '../crypto/ids.js';
import { BLOB_TYPE_BY_CODE, openBlob, openBlobInto, type BlobType } from '../repo/blob.js';
import { IndexedIds } from '../repo/indexed-ids.js';
import { PackAssembler, singleBlobPackBytes } from '../repo/pack.js';
import type { CryptoRequest, CryptoResponse, CryptoWorkerData, Envelope, PackMessage } from './crypto-protocol.js';
import { InPlaceRoom } from './batch-blobs.js';
import { copyBytes } from './copy-bytes.js';
import { SealedInRun } from './sealed-in-run.js';
import { moved } from './transferable.js';
import { YoungGarbage } from './young-garbage.js';


const { dataKey, blobIdKey, indexedIds, metaKey, packTarget } = workerData as CryptoWorkerData;
/** A backup's index, which the main thread adds the packs it writes to. */
const indexed = indexedIds ? IndexedIds.attach(indexedIds) : null;
const dataKeyBuf = Buffer.from(dataKey);
const idKeyBuf = Buffer.from(blobIdKey);
const metaKeyBuf = metaKey ? Buffer.from(metaKey) : null;

/**
 * The packs this worker is filling during a backup, one per blob type, and
 * the ids it has put in them (a chunk repeated within one backup is stored
 * once per worker; the index keeps one copy and prune drops the other).
 */
const assemblers = new Map<BlobType, PackAssembler>();
/** Buffers of written packs, back from the main thread for the next packs. */
const spareBuffers: ArrayBuffer[] = [];
const takeSpare = () => spareBuffers.pop();
/** Directory listings are packed apart from file data, in a buffer that starts this small (see PackAssembler). */
const TREE_PACK_START_BYTES = 256 * 1024;
/**
 * A pack of listings that holds this much is handed over at once. Listings come a few at a time,
 * so a pack that took a large one (a chat database's, 3.5 MB for the 1 GiB export) stayed open,
 * in its grown buffer, until the end of the backup.
 */
const TREE_PACK_HANDOVER_BYTES = 1024 * 1024;
const sealed = new SealedInRun();
let finished: PackMessage[] = [];
/**
 * Collects the cipher outputs every 2 MiB sealed (see young-garbage.ts): every 8 MiB, a 1 GiB
 * first backup peaked 13-17 MiB higher; every 1 or 4 MiB, the same as 2; no cost in time showed.
 */
const sealedGarbage = new YoungGarbage(2 * 1024 * 1024);
/**
 * And every 8 MiB opened. An opening worker's own young generation is small (4 MiB), but the
 * decipher outputs live outside it, and only V8's external-memory trigger collected them: six
 * alternating restores of the grown 1 GiB export peaked at 129-133 MiB against 143-146 with none,
 * in the same time (medians 3.35 and 3.42 s). Every 4 MiB: 124-127 MiB but 7% slower, every 2:
 * 122-124 and slower still; the time went to glibc handing the freed outputs back to the system
 * and faulting them in again.
 */
const openedGarbage = new YoungGarbage(8 * 1024 * 1024);
function putInPack(type: BlobType, id: Uint8Array, data: Uint8Array, compress: boolean): void {
  if (!metaKeyBuf || !packTarget) throw new Error('this worker was not started for a backup');
  if (!sealed.claim(id, indexed)) return;
  let a = assemblers.get(type);
  if (!a) assemblers.set(type, (a = new PackAssembler(packTarget, takeSpare, type === 'tree' ? TREE_PACK_START_BYTES : undefined)));
  if (!a.fits(data.length)) finished.push(finishPack(a));
  a.add(dataKeyBuf, type, id, data, compress);
  if (a.oversized || (type === 'tree' && a.bytes >= TREE_PACK_HANDOVER_BYTES)) finished.push(finishPack(a));
}

/**
 * A blob in a pack of its own (a large file's chunk list), in a buffer of its size, handed over at
 * once. Chunk lists are stored while a database is read (`ListedIds`), 256 KiB each: in the pack
 * of listings, each worker's grew from 256 KiB to 2 MiB by doubling for every four lists, and a
 * 3 GiB first backup peaked at 162-166 against 155-159 MiB without them.
 */
function putAlone(type: BlobType, id: Uint8Array, data: Uint8Array, compress: boolean): void {
  if (!metaKeyBuf || !packTarget) throw new Error('this worker was not started for a backup');
  if (!sealed.claim(id, indexed)) return;
  const a = new PackAssembler(packTarget, undefined, singleBlobPackBytes(data.length));
  a.add(dataKeyBuf, type, id, data, compress);
  finished.push(finishPack(a));
}

function finishPack(a: PackAssembler): PackMessage {
  const p = a.finish(metaKeyBuf!);
  return { buffer: p.buffer, length: p.length, entries: p.entries };
}

function takeFinished(): { packs: PackMessage[]; transfer: ArrayBuffer[] } {
  const packs = finished;
  finished = [];
  return { packs, transfer: packs.flatMap((p) => [p.buffer, p.entries]) };
}

function handle(req: CryptoRequest): { res: CryptoResponse; transfer: ArrayBuffer[] } {
  switch (req.op) {
    case 'pack-store': {
      spareBuffers.push(...req.spare);
      const data = new Uint8Array(req.data);
      const ids = new Uint8Array(ID_BYTES * req.lengths.length);
      let o = 0;
      req.lengths.forEach((len, i) => {
        const chunk = data.subarray(o, o + len);
        o += len;
        const id = blobId(idKeyBuf, chunk);
        ids.set(id, i * ID_BYTES);
        putInPack(req.type, id, chunk, req.compress);
      });
      const { packs, transfer } = takeFinished();
      return { res: { op: 'pack-store', ids: ids.buffer, data: req.data, packs }, transfer: [ids.buffer, req.data, ...transfer] };
    }
    case 'pack-put': {
      spareBuffers.push(...req.spare);
      (req.alone ? putAlone : putInPack)(req.type, req.id, new Uint8Array(req.data, 0, req.length), req.compress);
      const { packs, transfer } = takeFinished();
      return { res: { op: 'packs', packs }, transfer };
    }
    case 'pack-finish': {
      for (const a of assemblers.values()) if (a.blobs > 0) finished.push(finishPack(a));
      const { packs, transfer } = takeFinished();
      return { res: { op: 'packs', packs }, transfer };
    }
    case 'open-batch': {
      if (req.inPlace !== undefined) return openInPlace(req, req.inPlace);
      const sealed = new Uint8Array(req.sealed);
      const { types, spans } = req.blobs;
      let total = 0;
      if (req.returnData) for (let i = 0; i < types.length; i++) total += spans[i * 3 + 2]!;
      const out = new Uint8Array(total);
      let o = 0;
      for (let i = 0; i < types.length; i++) {
        const { type, id, piece, rawLength, object } = blobAt(req, sealed, i, 0);
        let plain: Uint8Array;
        if (req.returnData) {
          // Straight into the answer: restoring copies each byte once.
          openBlobInto(dataKeyBuf, type, id, piece, rawLength, object, out, o);
          plain = out.subarray(o, o + rawLength);
        } else plain = openBlob(dataKeyBuf, type, id, piece, rawLength, object);
        if (req.verifyId && !blobId(idKeyBuf, plain).equals(id)) {
          return { res: { op: 'error', kind: 'integrity', object, message: `blob ${Buffer.from(id).toString('hex').slice(0, 16)} content does not match its id` }, transfer: [] };
        }
        o += plain.length;
      }
      // Nothing to hand back but the sealed bytes' buffer, which the caller may read into again.
      const data = req.returnData ? out.buffer : req.sealed;
      return { res: { op: 'open-batch', data, length: total }, transfer: moved(data) };
    }
    case 'sha256': {
      const h = createHash('sha256');
      for (const p of req.parts) h.update(new Uint8Array(p));
      return { res: { op: 'sha256', hex: h.digest('hex'), parts: req.parts }, transfer: [...req.parts] };
    }
  }
}

type OpenBatchRequest = Extract<CryptoRequest, { op: 'open-batch' }>;

/** Blob `i` of a batch request, its sealed bytes found `base` bytes into `sealed`. */
function blobAt(req: OpenBatchRequest, sealed: Uint8Array, i: number, base: number): { type: BlobType; id: Uint8Array; offset: number; piece: Uint8Array; rawLength: number; object: string } {
  const { types, ids, spans, sources } = req.blobs;
  const type = BLOB_TYPE_BY_CODE[types[i]!];
  if (!type) throw new Error(`unknown blob type code ${types[i]}`);
  const offset = base + spans[i * 3]!;
  return {
    type,
    id: ids.subarray(i * ID_BYTES, (i + 1) * ID_BYTES),
    offset,
    piece: sealed.subarray(offset, offset + spans[i * 3 + 1]!),
    rawLength: spans[i * 3 + 2]!,
    object: req.objects[sources[i]!] ?? req.objects[0] ?? '',
  };
}

/**
 * Opens a batch into the buffer it was read into: the sealed blobs lie from
 * `base` on, and the plaintexts are written from the buffer's start, each
 * where the last ended. A restore then needs one buffer a batch instead of
 * two. It works because a blob's plaintext is written only behind the sealed
 * bytes already read (decryption goes front to back, and a stored body is
 * shorter than its seal), as long as no plaintext reaches a later blob's
 * sealed bytes before that blob is opened: `InPlaceRoom` is the rule the
 * batch was built by, and it is checked here again before anything is
 * written. A blob that comes again in the batch (a database's empty pages)
 * is copied from its first plaintext, whose seal may be overwritten by then.
 */
function openInPlace(req: OpenBatchRequest, base: number): { res: CryptoResponse; transfer: ArrayBuffer[] } {
  const buffer = req.sealed;
  const { spans } = req.blobs;
  const count = spans.length / 3;
  const room = new InPlaceRoom();
  for (let i = 0; i < count; i++) room.add(spans[i * 3]!, spans[i * 3 + 1]!, spans[i * 3 + 2]!);
  if (base + room.sealed !== buffer.byteLength || room.bytes > buffer.byteLength) throw new Error('a batch laid out for opening in place does not fit its buffer');
  const bytes = new Uint8Array(buffer);
  /** Where each seal's plaintext went, and how long it is. */
  const firstAt = new Map<number, { at: number; rawLength: number }>();
  let o = 0;
  for (let i = 0; i < count; i++) {
    const { type, id, offset, piece, rawLength, object } = blobAt(req, bytes, i, base);
    const first = firstAt.get(offset);
    if (first) {
      if (first.rawLength !== rawLength) throw new Error('a blob that comes again in a batch must have the same length');
      // Not `copyWithin`: shared memory is copied byte by byte there (`copyBytes`). The first
      // plaintext ends at or before `o`.
      copyBytes(bytes, o, bytes.subarray(first.at, first.at + rawLength));
    } else {
      firstAt.set(offset, { at: o, rawLength });
      openBlobInto(dataKeyBuf, type, id, piece, rawLength, object, bytes, o);
    }
    o += rawLength;
  }
  return { res: { op: 'open-batch', data: buffer, length: o }, transfer: moved(buffer) };
}

/** About how many bytes a request sealed. */
function sealedBytes(req: CryptoRequest): number {
  switch (req.op) {
    case 'pack-store':
      return req.lengths.reduce((n, l) => n + l, 0);
    case 'pack-put':
      return req.length;
    case 'pack-finish':
    case 'open-batch':
    case 'sha256':
      return 0;
  }
}

/** About how many bytes a request opened. */
function openedBytes(req: CryptoRequest): number {
  switch (req.op) {
    case 'open-batch': {
      let n = 0;
      for (let i = 1; i < req.blobs.spans.length; i += 3) n += req.blobs.spans[i]!;
      return n;
    }
    case 'pack-store':
    case 'pack-put':
    case 'pack-finish':
    case 'sha256':
      return 0;
  }
}

parentPort!.on('message', (msg: Envelope) => {
  try {
    const { res, transfer } = handle(msg.req);
    parentPort!.postMessage({ seq: msg.seq, res }, transfer);
    // After answering: the caller need not wait for it.
    sealedGarbage.add(sealedBytes(msg.req));
    // A request whose buffer went back (a restore's batch, opened in place; a pack `check`
    // verified) is collected after at once. One that keeps its buffer here (a batch whose
    // plaintexts come back in a buffer of their own) is collected once the message is let go of:
    // a collection while a 4 MiB pack was held here (as `check --read-data` once kept them)
    // promoted it, to stay until a full collection, and that check of the 1 GiB export peaked at
    // 179-181 MiB against 146-148. Deferred the same way, restores peaked at 142-146 MiB against
    // 129-133, for a reason not found.
    const opened = openedBytes(msg.req);
    if (msg.req.op === 'open-batch' && (msg.req.inPlace !== undefined || !msg.req.returnData)) openedGarbage.add(opened);
    else if (opened > 0) setImmediate(() => openedGarbage.add(opened));
  } catch (e) {
    const err = e as { kind?: string; object?: string; message?: string };
    parentPort!.postMessage({ seq: msg.seq, res: { op: 'error', kind: err.kind ?? 'internal', object: err.object ?? '', message: err.message ?? String(e) } });
  }
});
