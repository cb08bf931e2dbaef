#!/usr/bin/env -S node --max-semi-space-size=2
// The compiled CLI lives in dist/; `npm ci` builds it through the prepare script.
// --max-semi-space-size=2 (MiB): V8's young generation otherwise grows to 16 MiB per semi-space on
// every thread, about 40 MiB of a backup's resident memory, for collections that here cost little
// either way (a run's long-lived data is in typed arrays and buffers). npm's shims on Windows read
// the same line.
import { main } from '../dist/src/cli/main.js';

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => { console.error(`chatsafe: unexpected failure: ${err?.message ?? err}`); process.exitCode = 1; },
);
