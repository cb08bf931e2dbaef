import assert from 'node:assert/strict';
import { test } from 'node:test';
import { asciiBytes, documentBytes, jsonDocument, JsonBytes, PIECE_BYTES } from '../../../src/core/repo/json-bytes.js';

test('JSON written as bytes reads back as the values written, past its first buffer', () => {
  const numbers = [0, 1, 9, 10, 99, 100, 4096, 123_456_789, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 2 ** 40 + 7, Number.MAX_SAFE_INTEGER];
  const ids = [Buffer.alloc(0), Buffer.from([0, 1, 15, 16, 127, 128, 254, 255]), Buffer.alloc(32, 0xab)];
  const w = new JsonBytes(8);
  w.ascii('{"numbers":[');
  numbers.forEach((n, i) => w.ascii(i === 0 ? '' : ',').uint(n));
  w.raw(asciiBytes('],"ids":['));
  ids.forEach((id, i) => w.ascii(i === 0 ? '' : ',').hexString(id, 0, id.length));
  w.ascii('],"part":').hexString(Buffer.from([1, 2, 3, 4]), 1, 3).ascii('}');
  const text = w.bytes().toString('latin1');
  assert.equal(text, JSON.stringify({ numbers, ids: ids.map((b) => b.toString('hex')), part: '0203' }));
});

test('only non-negative safe integers are written as numbers', () => {
  const w = new JsonBytes(16);
  for (const bad of [-1, 1.5, Number.MAX_SAFE_INTEGER + 1, Number.NaN, Number.POSITIVE_INFINITY]) assert.throws(() => w.uint(bad), RangeError);
  assert.equal(w.bytes().length, 0, 'nothing is written for a refused number');
});

test('written to a sink, a document arrives in pieces of at most PIECE_BYTES that join to the same text', () => {
  const long = 'é'.repeat(PIECE_BYTES); // one text longer than a piece: handed over whole
  const write = (w: JsonBytes) => {
    w.ascii('[');
    for (let i = 0; i < 20_000; i++) w.ascii(i === 0 ? '' : ',').uint(i * 7919).ascii(',').hexString(Buffer.from([i & 255, i >> 8]), 0, 2);
    w.ascii(',').utf8(JSON.stringify(long)).ascii(']');
  };
  const whole = new JsonBytes(16);
  write(whole);
  const pieces: Buffer[] = [];
  const streamed = new JsonBytes(16, (piece) => pieces.push(Buffer.from(piece)));
  write(streamed);
  assert.equal(streamed.end(), whole.bytes().length);
  assert.ok(pieces.length > 3, `${pieces.length} pieces`);
  assert.ok(pieces.slice(0, -1).every((p) => p.length <= Buffer.byteLength(JSON.stringify(long))));
  assert.equal(pieces.filter((p) => p.length > PIECE_BYTES).length, 1, 'only the long text exceeds a piece');
  assert.deepEqual(Buffer.concat(pieces), whole.bytes());
  assert.throws(() => streamed.bytes(), /went to a sink/);
  assert.throws(() => whole.end(), /has no sink/);
});

test('a JSON document knows its length before it is written, and is refused if it is written differently', () => {
  const doc = jsonDocument((w) => w.ascii('{"v":').uint(1).ascii('}'));
  assert.equal(doc.byteLength, 7);
  assert.equal(documentBytes(doc).toString(), '{"v":1}');
  let n = 1;
  const drifting = jsonDocument((w) => w.ascii('{"v":').uint(n++).ascii('}'));
  assert.equal(drifting.byteLength, 7);
  for (let i = 0; i < 8; i++) documentBytes(drifting); // n = 2 … 9, the same length
  assert.throws(() => drifting.writeTo(() => {}), /7 bytes was written again as 8/);
});

test("a document's length is counted without its text, by every way of writing, to the byte", () => {
  const part = Buffer.from('{"a":[1,2,3],"b":"x"}');
  const write = (w: JsonBytes) => {
    w.ascii('{"n":[');
    [0, 9, 10, 2 ** 31 - 1, 2 ** 31, Number.MAX_SAFE_INTEGER].forEach((n, i) => w.ascii(i === 0 ? '' : ',').uint(n));
    w.raw(asciiBytes('],"id":')).hexString(Buffer.alloc(32, 0xc3), 0, 32);
    w.ascii(',"half":').hexString(Buffer.from([1, 2, 3, 4, 5]), 1, 4);
    w.ascii(',"text":').utf8(JSON.stringify('é€😀 plain'));
    w.ascii(',"copied":').copy(part, 0, part.length).ascii(',"clipped":[').copy(Buffer.from('12345'), 2, 99).ascii(']}');
  };
  const doc = jsonDocument(write);
  const text = documentBytes(doc);
  assert.equal(doc.byteLength, text.length);
  const parsed = JSON.parse(text.toString('utf8')) as Record<string, unknown>;
  assert.equal(parsed.text, 'é€😀 plain');
  assert.deepEqual(parsed.clipped, [345]);
  assert.deepEqual(parsed.n, [0, 9, 10, 2 ** 31 - 1, 2 ** 31, Number.MAX_SAFE_INTEGER]);
  // A number the writer refuses is refused while counting too, before anything is written.
  assert.throws(() => jsonDocument((w) => w.uint(-1)), RangeError);
});
