/**
 * FastCDC's gear-hash loop in WebAssembly (`gear-scan.wat`), over read blocks
 * that live in the module's memory. The loop is the backup's hottest code on
 * the main thread: every byte of every media file past the minimum chunk size
 * goes through it. In JavaScript each byte pays for two bounds checks and a
 * conversion of the unsigned table entry; here it does not, and a scan runs
 * about twice as fast (1.1 GB/s against 0.45 GB/s on our machines). The
 * results are the same bit for bit: the JavaScript loop in `fastcdc.ts`
 * stays for data outside this memory, and a test holds the two to the same
 * cut points.
 */

/** `gear-scan.wat` assembled (a test assembles the text again and compares). */
export const GEAR_SCAN_WASM = Buffer.from(
  'AGFzbQEAAAABCQFgBH9/f38BfwIUAQhjaGF0c2FmZQZtZW1vcnkCAAEDAgEABgYBfwFBAAsHDAIBaAMABHNjYW4AAAo/AT0AAkADQCAAIAFPDQEgA0EBdCAALQAAQQJ0KAIAaiEDIABBAWohACADIAJxDQBBACQAIAAPCwsgAyQAQX8L',
  'base64',
);

/** The little of the WebAssembly API used here (the project's type library has no DOM types). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: { scan: ScanFn; h: { value: number } } };
  Memory: new (d: { initial: number; maximum: number }) => { buffer: ArrayBuffer };
}
type ScanFn = (start: number, end: number, mask: number, h: number) => number;
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

const PAGE_BYTES = 65536;
const TABLE_BYTES = 256 * 4;

let compiled: object | undefined;

export class GearScanner {
  private readonly buffer: ArrayBuffer;
  private readonly run: ScanFn;
  private readonly last: { value: number };
  /** `count` buffers of `bytes` each, in the scanner's memory: read into these, and scans need no copy. */
  readonly blocks: readonly Buffer[];

  constructor(gear: Uint32Array, bytes: number, count: number) {
    if (gear.length !== 256) throw new RangeError('a gear table has 256 entries');
    const size = TABLE_BYTES + bytes * count;
    const pages = Math.ceil(size / PAGE_BYTES);
    // A fixed size: growing the memory would detach every view of it.
    const memory = new wasm.Memory({ initial: pages, maximum: pages });
    compiled ??= new wasm.Module(GEAR_SCAN_WASM);
    const { exports } = new wasm.Instance(compiled, { chatsafe: { memory } });
    this.buffer = memory.buffer;
    this.run = exports.scan;
    this.last = exports.h;
    // WebAssembly is little-endian whatever the machine is.
    const table = new DataView(this.buffer, 0, TABLE_BYTES);
    for (let i = 0; i < 256; i++) table.setUint32(i * 4, gear[i]!, true);
    this.blocks = Array.from({ length: count }, (_, k) => Buffer.from(this.buffer, TABLE_BYTES + k * bytes, bytes));
  }

  /** Whether `b` lies in this scanner's memory, so `scan` can read it in place. */
  holds(b: Uint8Array): boolean {
    return b.buffer === this.buffer && b.byteOffset >= TABLE_BYTES;
  }

  /**
   * Scans b[from, end) from hash `h` (b must be `holds`): the index in `b`
   * just past the first byte after which `(h & mask) === 0`, or -1 with the
   * running hash in `hash`.
   */
  scan(b: Uint8Array, from: number, end: number, mask: number, h: number): number {
    const at = this.run(b.byteOffset + from, b.byteOffset + end, mask, h);
    return at < 0 ? -1 : at - b.byteOffset;
  }

  /** The hash after the last scan that found no cut. */
  get hash(): number {
    return this.last.value;
  }
}
