/**
 * The memory behind a Buffer, to move to another thread (a postMessage transfer list): its own
 * ArrayBuffer when it spans all of it, otherwise a copy. Never Node's shared pool of small
 * buffers, which other Buffers use too: moving it would empty them under their owners' feet.
 */
export function transferable(b: Buffer): ArrayBuffer {
  if (b.byteOffset === 0 && b.byteLength === b.buffer.byteLength && b.buffer instanceof ArrayBuffer && b.byteLength > POOLED_BELOW) return b.buffer;
  const ab = new ArrayBuffer(b.length);
  new Uint8Array(ab).set(b);
  return ab;
}

/** Node carves Buffers of up to half its pool size (8 KiB) out of the pool. */
const POOLED_BELOW = 4096;

/**
 * Bytes at the start of an ArrayBuffer that their holder gives up: they move to another thread
 * as they are, the buffer's room past them with them. What a listing is written into
 * (`ListingEncoder`), grown as it went: cut to size, the 3 GiB export's thumbnails folder's 2.8 MB
 * were copied once more, and a folder of 50,000 files' 12 MB.
 */
export interface MovableBytes {
  readonly buffer: ArrayBuffer;
  readonly length: number;
}

/** `b`'s bytes, to move: its own memory when it spans all of it, otherwise a copy (see `transferable`). */
export function movable(b: Buffer | MovableBytes): MovableBytes {
  return b instanceof Uint8Array ? { buffer: transferable(b), length: b.length } : b;
}

/** A view of movable bytes, for reading them before they move. */
export function viewOf(b: Buffer | MovableBytes): Buffer {
  return b instanceof Uint8Array ? b : Buffer.from(b.buffer, 0, b.length);
}

/** The transfer list for a buffer handed to or from a worker: it moves, unless it is shared memory, which both threads hold. */
export function moved(buffer: ArrayBuffer | SharedArrayBuffer): ArrayBuffer[] {
  return buffer instanceof ArrayBuffer ? [buffer] : [];
}
