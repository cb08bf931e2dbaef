/**
 * Worker thread for the CPU-heavy per-blob work (compress + seal when
 * backing up, open + decompress when restoring, verify when checking, SHA-256
 * of finished packs), so it runs on every core while the main thread reads,
 * chunks and writes. Keys arrive once in workerData; buffers move by transfer.
 */
import { createHash } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import { blobId } from '../crypto/ids.js';
import { openBlob, sealBlob } from '../repo/blob.js';
import type { CryptoRequest, CryptoResponse, CryptoWorkerData } from './crypto-protocol.js';
import { GarbageBudget } from './memory.js';
import { KnownIdTable } from './known-ids.js';

const budget = new GarbageBudget();

const { dataKey, blobIdKey, knownIds } = workerData as CryptoWorkerData;
const known = knownIds ? KnownIdTable.attach(knownIds) : null;
const dataKeyBuf = Buffer.from(dataKey);
const idKeyBuf = Buffer.from(blobIdKey);

function handle(req: CryptoRequest): { res: CryptoResponse; transfer: ArrayBuffer[] } {
  switch (req.op) {
    case 'seal': {
      const sealed = sealBlob(dataKeyBuf, req.type, Buffer.from(req.id), new Uint8Array(req.data), req.compress);
      const owned = toOwned(sealed);
      return { res: { op: 'seal', sealed: owned }, transfer: [owned] };
    }
    case 'store': {
      const data = new Uint8Array(req.data);
      const ids = new Uint8Array(32 * req.lengths.length);
      const sealed: (ArrayBuffer | null)[] = [];
      let o = 0;
      req.lengths.forEach((len, i) => {
        const chunk = data.subarray(o, o + len);
        o += len;
        const id = blobId(idKeyBuf, chunk);
        ids.set(id, i * 32);
        sealed.push(known?.has(id) ? null : toOwned(sealBlob(dataKeyBuf, req.type, id, chunk, req.compress)));
      });
      const transfer = [ids.buffer, ...sealed.filter((b): b is ArrayBuffer => b !== null)];
      return { res: { op: 'store', ids: ids.buffer, sealed }, transfer };
    }
    case 'open': {
      const plain = openBlob(dataKeyBuf, req.type, Buffer.from(req.id), new Uint8Array(req.sealed), req.rawLength, req.object);
      if (req.verifyId && !blobId(idKeyBuf, plain).equals(Buffer.from(req.id))) {
        return { res: { op: 'error', kind: 'integrity', object: req.object, message: `blob ${Buffer.from(req.id).toString('hex').slice(0, 16)} content does not match its id` }, transfer: [] };
      }
      const owned = req.returnData ? toOwned(plain) : new ArrayBuffer(0);
      return { res: { op: 'open', data: owned }, transfer: [owned] };
    }
    case 'open-batch': {
      const sealed = new Uint8Array(req.sealed);
      const total = req.returnData ? req.blobs.reduce((n, b) => n + b.rawLength, 0) : 0;
      const out = new Uint8Array(total);
      let o = 0;
      for (const b of req.blobs) {
        const plain = openBlob(dataKeyBuf, b.type, Buffer.from(b.id), sealed.subarray(b.offset, b.offset + b.length), b.rawLength, req.object);
        if (req.verifyId && !blobId(idKeyBuf, plain).equals(Buffer.from(b.id))) {
          return { res: { op: 'error', kind: 'integrity', object: req.object, message: `blob ${Buffer.from(b.id).toString('hex').slice(0, 16)} content does not match its id` }, transfer: [] };
        }
        if (req.returnData) out.set(plain, o);
        o += plain.length;
      }
      return { res: { op: 'open-batch', data: out.buffer }, transfer: [out.buffer] };
    }
    case 'sha256': {
      const h = createHash('sha256');
      for (const p of req.parts) h.update(new Uint8Array(p));
      return { res: { op: 'sha256', hex: h.digest('hex'), parts: req.parts }, transfer: [...req.parts] };
    }
  }
}

function toOwned(b: Buffer): ArrayBuffer {
  if (b.byteOffset === 0 && b.byteLength === b.buffer.byteLength && b.buffer instanceof ArrayBuffer) return b.buffer;
  const ab = new ArrayBuffer(b.length);
  new Uint8Array(ab).set(b);
  return ab;
}

parentPort!.on('message', (msg: { seq: number; req: CryptoRequest }) => {
  try {
    const { res, transfer } = handle(msg.req);
    parentPort!.postMessage({ seq: msg.seq, res }, transfer);
    budget.spent(transfer.reduce((n, b) => n + b.byteLength, 0));
  } catch (e) {
    const err = e as { kind?: string; object?: string; message?: string };
    parentPort!.postMessage({ seq: msg.seq, res: { op: 'error', kind: err.kind ?? 'internal', object: err.object ?? '', message: err.message ?? String(e) } });
  }
});
