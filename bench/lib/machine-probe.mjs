// What a page fault costs on this machine. Both tools write a GiB into the page cache and touch fresh
// memory as they go; where the kernel's share of that is large (a guest whose page faults trap to
// its hypervisor: 10 µs a fault was seen on one, against well under 1 µs on hardware), it adds the
// same seconds to both tools and every ratio moves towards 1. Printed beside the figures so runs on
// different machines can be told apart.

const PROBE_BYTES = 64 * 1024 * 1024;
const PAGE_BYTES = 4096;

/** Microseconds a first touch of a 4 KiB page takes (the fault and the kernel zeroing it), the median of three tries. */
export function pageFaultMicros() {
  const tries = [];
  for (let i = 0; i < 3; i++) {
    // A fresh allocation this large is a mapping of its own: its pages are not there until touched.
    const buf = Buffer.allocUnsafeSlow(PROBE_BYTES);
    const first = time(() => buf.fill(1));
    const again = time(() => buf.fill(2)); // the same writes once the pages exist
    tries.push(Math.max(0, first - again) / (PROBE_BYTES / PAGE_BYTES));
  }
  tries.sort((a, b) => a - b);
  return Math.round(tries[1] * 100) / 100;
}

function time(f) {
  const t0 = process.hrtime.bigint();
  f();
  return Number(process.hrtime.bigint() - t0) / 1000;
}
