import assert from 'node:assert/strict';
import { createCipheriv, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { IntegrityError } from '../../../src/core/errors.js';
import { SEGMENT_BYTES, SegmentOpener, SegmentSealer } from '../../../src/core/bundle/stream-aead.js';

const key = randomBytes(32);
const prefix = randomBytes(7);
const aad = randomBytes(32);

/** The payload sealed as FORMAT.md §11 says, one segment at a time in one call each. */
function reference(payload: Buffer): Buffer {
  const out: Buffer[] = [];
  const count = Math.max(1, Math.ceil(payload.length / SEGMENT_BYTES));
  for (let i = 0; i < count; i++) {
    const nonce = Buffer.concat([prefix, Buffer.alloc(5)]);
    nonce.writeUInt32BE(i, 7);
    nonce[11] = i === count - 1 ? 1 : 0;
    const c = createCipheriv('aes-256-gcm', key, nonce);
    c.setAAD(aad);
    out.push(c.update(payload.subarray(i * SEGMENT_BYTES, (i + 1) * SEGMENT_BYTES)), c.final(), c.getAuthTag());
  }
  return Buffer.concat(out);
}

/** `data` cut into pieces of the given sizes, in turn. */
function cut(data: Buffer, sizes: readonly number[]): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0, i = 0; at < data.length; i++) {
    const n = Math.min(sizes[i % sizes.length]!, data.length - at);
    out.push(data.subarray(at, at + n));
    at += n;
  }
  return out;
}

function seal(payload: Buffer, sizes: readonly number[]): Buffer {
  const sealer = new SegmentSealer(key, prefix, aad);
  const out: Buffer[] = [];
  for (const p of cut(payload, sizes)) out.push(...sealer.push(p));
  out.push(...sealer.final());
  return Buffer.concat(out);
}

/** Opens `sealed` pushed in pieces of the given sizes, each pushed from one buffer filled again every time, as a reader does. */
function open(sealed: Buffer, sizes: readonly number[]): Buffer {
  const opener = new SegmentOpener(key, prefix, aad, 'bundle');
  const reused = Buffer.alloc(Math.max(...sizes));
  const out: Buffer[] = [];
  for (const p of cut(sealed, sizes)) {
    p.copy(reused);
    for (const piece of opener.push(reused.subarray(0, p.length))) out.push(Buffer.from(piece));
  }
  out.push(...opener.final());
  return Buffer.concat(out);
}

const SIZES = [0, 1, SEGMENT_BYTES - 1, SEGMENT_BYTES, SEGMENT_BYTES + 1, 3 * SEGMENT_BYTES, 3 * SEGMENT_BYTES + 12_345];

test('sealed segments are exactly what the format says, however the plaintext is pushed', () => {
  for (const size of SIZES) {
    const payload = randomBytes(size);
    const expected = reference(payload);
    for (const pieces of [[size || 1], [4096], [9, 1_000_003], [SEGMENT_BYTES]]) {
      assert.ok(seal(payload, pieces).equals(expected), `${size} bytes pushed in pieces of ${pieces.join(', ')}`);
    }
  }
});

test('opening gives the payload back, whatever the pieces the sealed bytes arrive in', () => {
  for (const size of SIZES) {
    const payload = randomBytes(size);
    const sealed = reference(payload);
    for (const pieces of [[sealed.length], [4 * SEGMENT_BYTES], [SEGMENT_BYTES + 16], [SEGMENT_BYTES + 17], [65_537, 3], [1_000_000, 2_500_000]]) {
      assert.ok(open(sealed, pieces).equals(payload), `${size} bytes opened from pieces of ${pieces.join(', ')}`);
    }
  }
});

test('a flipped, dropped, repeated or cut segment, or bytes after the last, fail to open', () => {
  const payload = randomBytes(3 * SEGMENT_BYTES + 100);
  const sealed = reference(payload);
  const seg = SEGMENT_BYTES + 16;
  const flipped = Buffer.from(sealed);
  flipped[seg + 10]! ^= 1;
  const cases: Record<string, Buffer> = {
    flipped,
    dropped: Buffer.concat([sealed.subarray(0, seg), sealed.subarray(2 * seg)]),
    repeated: Buffer.concat([sealed.subarray(0, seg), sealed]),
    'cut after a segment': sealed.subarray(0, 2 * seg),
    'cut inside a segment': sealed.subarray(0, 2 * seg + 500),
    'bytes after the last': Buffer.concat([sealed, Buffer.from([0])]),
  };
  for (const [what, bytes] of Object.entries(cases)) {
    assert.throws(() => open(bytes, [4 * SEGMENT_BYTES]), IntegrityError, what);
  }
});

test('nothing of a segment is handed on before all of it is authenticated', () => {
  const payload = randomBytes(2 * SEGMENT_BYTES + 5);
  const sealed = reference(payload);
  sealed[SEGMENT_BYTES - 1]! ^= 1; // the first segment's last byte
  const opener = new SegmentOpener(key, prefix, aad, 'bundle');
  assert.throws(() => opener.push(sealed), IntegrityError);
  const whole = new SegmentOpener(key, prefix, aad, 'bundle');
  const first = whole.push(reference(payload).subarray(0, SEGMENT_BYTES + 17));
  assert.equal(Buffer.concat(first).length, SEGMENT_BYTES, 'a segment is handed on once a byte follows it, all of it');
});
