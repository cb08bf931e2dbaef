import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { blobId } from '../../../src/core/crypto/ids.js';
import { IntegrityError } from '../../../src/core/errors.js';
import { aadOf } from '../../../src/core/crypto/aead.js';
import { blobAad, blobPayload, openBlob, openBlobInto, sealedBlobBound, sealedPayloadLength, sealPayloadInto } from '../../../src/core/repo/blob.js';
import { DATA_LEVEL, LEVEL, maybeCompressView } from '../../../src/core/repo/compression.js';

const dataKey = randomBytes(32);
const idKey = randomBytes(32);

function sealed(data: Buffer, compress: boolean, type: 'data' | 'tree' = 'data'): { id: Buffer; bytes: Buffer } {
  const id = blobId(idKey, data);
  const out = Buffer.alloc(sealedBlobBound(data.length));
  const payload = blobPayload(type, data, compress);
  assert.ok(sealedPayloadLength(payload) <= out.length, 'a sealed blob never takes more than its bound');
  const n = sealPayloadInto(out, 0, dataKey, type, id, payload);
  assert.equal(n, sealedPayloadLength(payload));
  return { id, bytes: out.subarray(0, n) };
}

// Compressible (a page of a chat database), incompressible (media), larger than one decryption step, and empty.
const samples: Array<[string, Buffer]> = [
  ['compressible', Buffer.from('hello chat '.repeat(400))],
  ['incompressible', randomBytes(5000)],
  ['several steps', Buffer.concat([randomBytes(150_000), Buffer.alloc(100_000, 1)])],
  ['empty', Buffer.alloc(0)],
];

test('openBlobInto puts each blob exactly where openBlob would return it, leaving the bytes around it alone', () => {
  for (const compress of [true, false]) {
    const blobs = samples.map(([, data]) => ({ data, ...sealed(data, compress) }));
    const total = blobs.reduce((n, b) => n + b.data.length, 0);
    const out = Buffer.alloc(total + 20, 0xee);
    let at = 10;
    for (const b of blobs) {
      openBlobInto(dataKey, 'data', b.id, b.bytes, b.data.length, 'data/x', out, at);
      assert.deepEqual(openBlob(dataKey, 'data', b.id, b.bytes, b.data.length, 'data/x'), b.data);
      at += b.data.length;
    }
    assert.deepEqual(out.subarray(10, 10 + total), Buffer.concat(blobs.map((b) => b.data)));
    assert.deepEqual(out.subarray(0, 10), Buffer.alloc(10, 0xee));
    assert.deepEqual(out.subarray(10 + total), Buffer.alloc(10, 0xee));
  }
});

test('a tampered, misplaced or misdescribed blob is refused and its place in the output is wiped', () => {
  for (const [name, data] of samples.filter(([, d]) => d.length > 0)) {
    for (const compress of [true, false]) {
      const { id, bytes } = sealed(data, compress);
      const attempts: Array<[string, () => void, RegExp]> = [
        ['flipped byte', () => {
          const bad = Buffer.from(bytes);
          bad[20]! ^= 1;
          openBlobInto(dataKey, 'data', id, bad, data.length, 'data/p', out, 3);
        }, /fails authentication/],
        ['other type', () => openBlobInto(dataKey, 'tree', id, bytes, data.length, 'data/p', out, 3), /fails authentication/],
        ['other id', () => openBlobInto(dataKey, 'data', randomBytes(32), bytes, data.length, 'data/p', out, 3), /fails authentication/],
        ['wrong length', () => openBlobInto(dataKey, 'data', id, bytes, data.length - 1, 'data/p', out, 3), /length/],
      ];
      const out = Buffer.alloc(data.length + 6, 0xaa);
      for (const [what, attempt, message] of attempts) {
        out.fill(0xaa);
        assert.throws(attempt, (e: unknown) => e instanceof IntegrityError && message.test(e.message) && e.message.includes('data/p'), `${name}, compress ${compress}: ${what}`);
        const wiped = what === 'wrong length' ? data.length - 1 : data.length;
        assert.deepEqual(out.subarray(3, 3 + wiped), Buffer.alloc(wiped), `${name}, compress ${compress}: ${what} leaves no plaintext behind`);
        assert.deepEqual(out.subarray(0, 3), Buffer.alloc(3, 0xaa));
      }
    }
  }
});

test('blobAad builds in place exactly what aadOf gives for the blob label, type code and id', () => {
  for (const [type, code] of [['data', 0], ['tree', 1]] as const) {
    for (let i = 0; i < 3; i++) {
      const id = randomBytes(32);
      assert.ok(blobAad(type, id).equals(aadOf('chatsafe/v1/blob', Uint8Array.of(code), id)));
    }
    const odd = randomBytes(5); // not an id: built the long way, with the same layout
    assert.ok(blobAad(type, odd).equals(aadOf('chatsafe/v1/blob', Uint8Array.of(code), odd)));
  }
});

test('file chunks are compressed at the fast level, directory listings at level 1, and both open', () => {
  // A listing's bulk is hex ids: only entropy coding shrinks it, which zstd's negative levels skip.
  const hex = Buffer.from(Array.from({ length: 200 }, () => randomBytes(32).toString('hex')).join('\n'));
  assert.ok(DATA_LEVEL < 0 && LEVEL > 0, 'the fast level is one of zstd’s negative levels');
  assert.ok(maybeCompressView(hex, LEVEL).body.length < hex.length * 0.6, 'level 1 codes the hex digits in about 4 bits');
  assert.equal(maybeCompressView(hex, DATA_LEVEL).body, hex, 'the fast level leaves hex as it is');
  const tree = sealed(hex, true, 'tree');
  assert.ok(tree.bytes.length < hex.length * 0.6, 'a tree blob is sealed at level 1');
  assert.deepEqual(openBlob(dataKey, 'tree', tree.id, tree.bytes, hex.length, 'data/x'), hex);
  const page = Buffer.from('INSERT INTO message VALUES (1, "hello chat") '.repeat(90));
  const data = sealed(page, true, 'data');
  assert.ok(data.bytes.length < page.length / 4, 'a repetitive database page still shrinks at the fast level');
  const out = Buffer.alloc(page.length);
  openBlobInto(dataKey, 'data', data.id, data.bytes, page.length, 'data/x', out, 0);
  assert.deepEqual(out, page);
});
