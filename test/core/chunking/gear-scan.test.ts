import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import wabt from 'wabt';
import { CdcCutter, CDC_PARAMS, gearTable, type CdcParams } from '../../../src/core/chunking/fastcdc.js';
import { FileChunker } from '../../../src/core/chunking/file-chunker.js';
import { GEAR_SCAN_WASM, GearScanner } from '../../../src/core/chunking/gear-scan.js';
import { pseudoRandomBytes } from '../../helpers/tmp.js';

const gear = gearTable(Buffer.alloc(32, 9));
const WAT = join(process.cwd(), 'src', 'core', 'chunking', 'gear-scan.wat');

test('the embedded WebAssembly is gear-scan.wat assembled', async () => {
  const tools = await wabt();
  const module = tools.parseWat('gear-scan.wat', readFileSync(WAT, 'utf8'));
  try {
    module.validate();
    assert.ok(Buffer.from(module.toBinary({}).buffer).equals(GEAR_SCAN_WASM), 'assemble gear-scan.wat and paste its base64 into gear-scan.ts');
  } finally {
    module.destroy();
  }
});

/** Cut points of `data` read block by block, through the scanner's memory or through plain buffers. */
function cuts(data: Buffer, blockBytes: number, params: CdcParams, scanner: GearScanner | null): number[] {
  const cutter = new CdcCutter(gear, params, scanner);
  const out: number[] = [];
  for (let o = 0, n = 0; o < data.length; o += blockBytes, n++) {
    const piece = data.subarray(o, o + blockBytes);
    const block = scanner ? scanner.blocks[n & 1]!.subarray(0, piece.length) : Buffer.from(piece);
    if (scanner) piece.copy(block);
    for (let at = 0; at < block.length; ) {
      const cut = cutter.next(block, at, block.length);
      if (cut < 0) break;
      out.push(o + cut);
      at = cut;
    }
  }
  return out;
}

test('the WebAssembly scan finds the same cut points as the JavaScript loop', () => {
  const small: CdcParams = { min: 64, avg: 256, max: 1024 };
  for (const [params, blockBytes, size, seed] of [
    [CDC_PARAMS, 4 << 20, 24 << 20, 1],
    [CDC_PARAMS, 65537, 6 << 20, 2],
    [small, 4096, 1 << 20, 3],
    [small, 1000, 300_000, 4],
  ] as const) {
    const scanner = new GearScanner(gear, blockBytes, 2);
    const data = pseudoRandomBytes(size, seed);
    const viaWasm = cuts(data, blockBytes, params, scanner);
    const viaJs = cuts(data, blockBytes, params, null);
    assert.ok(viaJs.length >= 4, `only ${viaJs.length} cuts`);
    assert.deepEqual(viaWasm, viaJs, `params ${JSON.stringify(params)}, blocks of ${blockBytes}`);
  }
});

test('where the hash never meets the mask, both loops cut at the maximum size', () => {
  const params: CdcParams = { min: 64, avg: 256, max: 1024 };
  // Over a run of zeros the gear hash settles on one value after 32 bytes; with this table it
  // settles on one whose high bits are set, so only the maximum size cuts.
  const scanner = new GearScanner(gear, 10_000, 1);
  const run = (block: Uint8Array, s: GearScanner | null) => {
    const cutter = new CdcCutter(gear, params, s);
    const out: number[] = [];
    for (let at = 0; ; ) {
      const cut = cutter.next(block, at, block.length);
      if (cut < 0) break;
      out.push(cut);
      at = cut;
    }
    return out;
  };
  const expected = Array.from({ length: 9 }, (_, i) => (i + 1) * 1024);
  assert.deepEqual(run(scanner.blocks[0]!.fill(0), scanner), expected);
  assert.deepEqual(run(Buffer.alloc(10_000), null), expected);
});

test('buffers outside the scanner memory take the JavaScript loop', () => {
  const scanner = new GearScanner(gear, 4096, 2);
  assert.equal(scanner.holds(scanner.blocks[1]!), true);
  assert.equal(scanner.holds(Buffer.alloc(4096)), false);
  const data = pseudoRandomBytes(3 << 20, 5);
  const chunker = (s: GearScanner | null) => new FileChunker('cdc', gear, data, s).push(data).map((c) => c.length);
  assert.deepEqual(chunker(scanner), chunker(null));
  assert.throws(() => new GearScanner(new Uint32Array(255), 4096, 1), /256 entries/);
});
