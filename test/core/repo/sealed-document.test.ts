import assert from 'node:assert/strict';
import { createHash, randomBytes, randomInt } from 'node:crypto';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { compressDocumentTo, decodeBoundedPayload, FLAG_STORED, FLAG_ZSTD } from '../../../src/core/repo/compression.js';
import { documentBytes, jsonDocument, type JsonDocument } from '../../../src/core/repo/json-bytes.js';
import { aadOf, open, seal } from '../../../src/core/crypto/aead.js';
import { IntegrityError } from '../../../src/core/errors.js';
import { META_LABELS, openJson, sealJsonDocument } from '../../../src/core/repo/sealed-json.js';
import type { JsonValidator } from '../../../src/core/repo/json-shape.js';

const anyJson: JsonValidator<unknown> = { safeParse: (json) => ({ success: true, data: json }) };

/** The frame `compressDocumentTo` hands out, its pieces copied (each is valid only during its call), or undefined when it gives up. */
function compressDocument(doc: JsonDocument): Buffer[] | undefined {
  const pieces: Buffer[] = [];
  return compressDocumentTo(doc, (piece) => pieces.push(Buffer.from(piece))) ? pieces : undefined;
}

/** An index-like document of `n` entries: hex ids, which compress about 2:1. */
function ids(n: number, seed = 'ids'): JsonDocument {
  const bytes = Buffer.alloc(n * 32);
  for (let i = 0; i < n; i++) bytes.write(`${seed}${i}`.padEnd(32, '.'), i * 32, 'latin1');
  return jsonDocument((w) => {
    w.ascii('{"v":1,"ids":[');
    for (let i = 0; i < n; i++) w.ascii(i === 0 ? '' : ',').hexString(bytes, i * 32, i * 32 + 32);
    w.ascii(']}');
  });
}

/** `n` random ids: hex, which compresses no better than 2:1. */
function randomIds(n: number): JsonDocument {
  const bytes = randomBytes(n * 32);
  return jsonDocument((w) => {
    w.ascii('{"v":1,"ids":[');
    for (let i = 0; i < n; i++) w.ascii(i === 0 ? '' : ',').hexString(bytes, i * 32, i * 32 + 32);
    w.ascii(']}');
  });
}

test('a document compressed as it is written is one zstd frame recording its length, which a reader opens', () => {
  for (const n of [1000, 40_000]) {
    const doc = ids(n);
    const pieces = compressDocument(doc);
    assert.ok(pieces, `${n} ids compress`);
    const frame = Buffer.concat(pieces);
    assert.ok(frame.length < doc.byteLength / 2, `${frame.length} of ${doc.byteLength}`);
    // decodeBoundedPayload sizes its output by the frame header, as every reader of metadata does.
    const text = decodeBoundedPayload(Buffer.concat([Uint8Array.of(FLAG_ZSTD), frame]), doc.byteLength, 'test');
    assert.deepEqual(text, documentBytes(doc));
    assert.throws(() => decodeBoundedPayload(Buffer.concat([Uint8Array.of(FLAG_ZSTD), frame]), doc.byteLength - 1, 'test'), /larger than allowed/);
  }
  // The context is reused: a second document after a large one is its own frame.
  const small = ids(3, 'again');
  assert.deepEqual(decodeBoundedPayload(Buffer.concat([Uint8Array.of(FLAG_ZSTD), ...compressDocument(small)!]), 1 << 20, 'test'), documentBytes(small));
});

/**
 * JSON text that zstd cannot shrink: random printable ASCII, two- and three-byte characters in
 * proportions that spread its bytes nearly evenly (random hex or base64 would still compress).
 */
function denseText(chars: number): string {
  let s = '';
  for (let i = 0; i < chars; i++) {
    const kind = randomInt(7);
    if (kind < 4) s += String.fromCharCode(randomInt(0x23, 0x5c)); // printable, without quote or backslash
    else if (kind < 6) s += String.fromCharCode(randomInt(0x80, 0x800));
    else s += String.fromCharCode(randomInt(0x800, 0xd800));
  }
  return s;
}

test('a document that does not shrink by 1/16 is not compressed, and is sealed as it is', () => {
  const key = randomBytes(32);
  const tiny = jsonDocument((w) => w.ascii('{"v":1}'));
  const dense = denseText(200_000);
  const large = jsonDocument((w) => w.utf8(JSON.stringify(dense)));
  for (const [doc, value] of [
    [tiny, { v: 1 }],
    [large, dense],
  ] as const) {
    assert.equal(compressDocument(doc), undefined);
    const sealed = sealJsonDocument(key, META_LABELS.index, doc);
    const bytes = Buffer.concat(sealed.bytes);
    assert.equal(open(key, aadOf(META_LABELS.index), bytes)[0], FLAG_STORED);
    assert.deepEqual(openJson(key, META_LABELS.index, bytes, 'index/x', anyJson, sealed.name), value);
  }
  // Given up early, the context still makes whole frames after it.
  const after = ids(2000, 'after');
  assert.deepEqual(decodeBoundedPayload(Buffer.concat([Uint8Array.of(FLAG_ZSTD), ...compressDocument(after)!]), 1 << 20, 'test'), documentBytes(after));
});

test('a sealed document opens to the value its text is, under its name, and only with its label', () => {
  const key = randomBytes(32);
  // 5,000 ids fit one compressed piece; 100,000 random ones (half their size compressed) take many, each sealed as it comes.
  for (const n of [5000, 100_000]) {
    const doc = n === 5000 ? ids(n) : randomIds(n);
    const sealed = sealJsonDocument(key, META_LABELS.index, doc);
    const bytes = Buffer.concat(sealed.bytes);
    assert.equal(sealed.name, createHash('sha256').update(bytes).digest('hex'), 'named by the hash of all its pieces');
    assert.equal(open(key, aadOf(META_LABELS.index), bytes)[0], FLAG_ZSTD);
    assert.deepEqual(openJson(key, META_LABELS.index, bytes, 'index/x', anyJson, sealed.name), JSON.parse(documentBytes(doc).toString()));
    assert.throws(() => openJson(key, META_LABELS.snapshot, bytes, 'index/x', anyJson, sealed.name), /fails authentication/);
    const frame = compressDocument(doc)!;
    if (n === 100_000) assert.ok(frame.length > 1 && sealed.bytes.length >= frame.length + 2, `${frame.length} compressed pieces, ${sealed.bytes.length} sealed`);
  }
});

/** A zstd frame that does not record its length, as a streaming writer of another implementation may make. */
function unsizedFrame(text: Buffer): Buffer {
  const zstd = createRequire(import.meta.url)('zstd-napi/binding') as {
    CCtx: new () => { compressStream2(dst: Uint8Array, src: Uint8Array, endOp: number): [number, number, number] };
    EndDirective: { continue: number; end: number };
    getFrameContentSize(frame: Uint8Array): number | null;
  };
  const ctx = new zstd.CCtx();
  const out = Buffer.alloc(text.length + 1024);
  let used = 0;
  for (let at = 0; at < text.length; ) {
    const [, written, read] = ctx.compressStream2(out.subarray(used), text.subarray(at), zstd.EndDirective.continue);
    used += written;
    at += read;
  }
  for (let left = 1; left > 0; ) {
    const [l, written] = ctx.compressStream2(out.subarray(used), Buffer.alloc(0), zstd.EndDirective.end);
    used += written;
    left = l;
  }
  const frame = out.subarray(0, used);
  assert.equal(zstd.getFrameContentSize(frame), null, 'the frame does not record its length');
  return frame;
}

test('metadata in a frame that does not record its length is read, up to the limit; a cut or padded one is refused', () => {
  const text = documentBytes(ids(20_000)); // about 1.4 MB: several steps of the reader
  const payload = Buffer.concat([Uint8Array.of(FLAG_ZSTD), unsizedFrame(text)]);
  assert.deepEqual(decodeBoundedPayload(payload, text.length, 'index/x'), text);
  assert.throws(() => decodeBoundedPayload(payload, text.length - 1, 'index/x'), (e: unknown) => e instanceof IntegrityError && /larger than allowed/.test(e.message));
  assert.throws(() => decodeBoundedPayload(payload.subarray(0, payload.length - 20), text.length, 'index/x'), (e: unknown) => e instanceof IntegrityError && /index\/x/.test(e.message));
  assert.throws(() => decodeBoundedPayload(Buffer.concat([payload, Buffer.from('trailing')]), text.length, 'index/x'), IntegrityError);
  assert.throws(() => decodeBoundedPayload(Buffer.concat([Uint8Array.of(FLAG_ZSTD), Buffer.from('not a frame at all')]), text.length, 'index/x'), /not a zstd frame/);

  // Sealed as metadata, it opens like any other.
  const key = randomBytes(32);
  const sealed = seal(key, aadOf(META_LABELS.index), payload);
  assert.deepEqual(openJson(key, META_LABELS.index, sealed, 'index/x', anyJson), JSON.parse(text.toString()));
});
