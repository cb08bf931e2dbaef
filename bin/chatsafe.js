#!/usr/bin/env -S node --single-threaded-gc
// The compiled CLI lives in dist/; `npm ci` builds it through the prepare script.
//
// --single-threaded-gc: V8 otherwise collects with helper threads (parallel scavenges, concurrent
// marking and sweeping). A backup already keeps every core busy with its own threads (reading and
// chunking, sealing, the catalog), so the helpers only competed with them: a 1 GiB first backup
// spent 2.3 CPU seconds in them, and with the flag 1.5 s less CPU in all and 13% less time, at the
// same peak memory (docs/ENGINE.md). V8 reads it only at start-up, hence this line.
import { main } from '../dist/src/cli/main.js';

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => { console.error(`chatsafe: unexpected failure: ${err?.message ?? err}`); process.exitCode = 1; },
);
