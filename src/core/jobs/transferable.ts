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
