#!/usr/bin/env -S MALLOC_MMAP_THRESHOLD_=1048576 MALLOC_ARENA_MAX=1 GLIBC_TUNABLES=glibc.malloc.hugetlb=1 node --single-threaded-gc --max-semi-space-size=2 --v8-pool-size=2
// The compiled CLI lives in dist/; `npm ci` builds it through the prepare script.
//
// --single-threaded-gc: V8 otherwise collects with helper threads (parallel scavenges, concurrent
// marking and sweeping). A backup already keeps every core busy with its own threads (reading and
// chunking, sealing, the catalog), so the helpers only competed with them: a 1 GiB first backup
// spent 2.3 CPU seconds in them, and with the flag 1.5 s less CPU in all and 13% less time, at the
// same peak memory (docs/ENGINE.md).
//
// --max-semi-space-size=2 (MiB; V8's default is 16): the main thread's young generation. 4 took
// 14 MiB off a 1 GiB first backup's peak and 10 off a restore's, in the same time; 2 took 9 more
// off the first backup, 8 off a backup after the database grew 1% and 4 off a restore, again in the
// same time (1 was 2.5% slower). V8 gives every heap made while this flag is set the same size,
// over the limits a worker thread asks for, so it is cleared once the main thread's heap is made
// (core/jobs/worker-heaps.ts) and each worker gets its own.
//
// --v8-pool-size=2: V8's background threads (Node's default is four), which compile the hot code
// of every thread with TurboFan. Each compilation works in zones of memory from glibc's heap, and
// four at once raised the heap's highest mark, which it keeps: two alternating series of first
// backups, three and four pairs, peaked at 153-158 against 157-160 MiB at 3 GiB, in 31.3-33.8
// against 34.2-37.7 CPU s, and at 137-141 against 138-141 MiB at 1 GiB, in the same time; one
// thread was no better than two.
//
// V8 reads these for the main thread only at start-up (setting --single-threaded-gc from inside the
// running process crashes it), hence this line; electron/start.mjs reads its options from here.
//
// MALLOC_MMAP_THRESHOLD_=1048576: glibc gives blocks of 1 MiB or more their own mapping, returned
// to the system when freed. By default the threshold rises to the largest block freed so far (up
// to 32 MiB), after which the 4 and 8 MiB buffers of batches, packs and trees came from the heap
// and stayed resident once freed: at the peak of a backup after the 3 GiB export's database grew
// 1%, 68 MiB of the main heap and 64 of the threads' were glibc's. With a fixed threshold, peaks
// fell by 13-28 MiB (first backups 187 against 200 MiB at 1 GiB, 243 against 266 at 3 GiB; a
// restore 154 against 167), in the same time.
//
// MALLOC_ARENA_MAX=1: one glibc heap for all threads, instead of one per thread that allocates
// (the main thread, the crypto and catalog workers, the thread pool). What one thread frees is
// then what the next allocation of any thread reuses, rather than new pages to fault in (about
// 12-15 µs each on the machines measured). Alternating runs, four to seven each: 1 GiB first
// backups 6.8-8.2 against 7.8-9.6 s and 11-13.7 against 13.5-16.4 CPU s, peaking at 134-137
// against 133-142 MiB; 3 GiB first backups 19.4-20.5 against 24-29.6 s, at 149-151 against
// 153-159; unchanged backups 1.27-1.36 against 1.56-1.68 CPU s; restores 121-122 against 125-127
// MiB, in the same time.
//
// GLIBC_TUNABLES=glibc.malloc.hugetlb=1: glibc asks the kernel for transparent huge pages
// (madvise) for its heap and for the blocks it maps on their own, which a kernel set to `madvise`
// (as on the machines measured) gives only to programs that ask. Each new 4 KiB page a thread
// touches costs a fault, and a backup touches about 130 MiB of new pages (cipher outputs, pack
// reads, the index as it grows): on the machines measured a fault cost 14 µs, against 0.8-1.4 µs
// for each 4 KiB of a 2 MiB page.
// A 1 GiB first backup took 20,600 faults instead of 32,800, a restore 13,800 instead of 31,700.
// Alternating runs, two to four pairs each: 1 GiB first backups 10.8-13.3 against 12.4-14.7 CPU s;
// 3 GiB ones 32.5-38.6 against 37.5-43.4, at the same peak (154-158 against 156-162 MiB); backups
// after the database grew 1% 3.97-4.60 against 4.33-5.55 s; restores into memory 2.46-2.80
// against 2.79-2.92 s; unchanged backups 0.78-0.83 against 0.84-0.87 s. The cost is memory a
// huge page holds whole: 1 GiB first backups peaked 2-6 MiB higher (138-143 against 133-138).
//
// glibc reads all three at start-up, from the environment; `chatsafe ui` passes none of them on to
// the browser it opens.
import { main } from '../dist/src/cli/main.js';

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => { console.error(`chatsafe: unexpected failure: ${err?.message ?? err}`); process.exitCode = 1; },
);
