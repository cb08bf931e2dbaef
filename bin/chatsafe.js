#!/usr/bin/env node
// The compiled CLI lives in dist/; `npm ci` builds it through the prepare script.
import { main } from '../dist/src/cli/main.js';

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => { console.error(`chatsafe: unexpected failure: ${err?.message ?? err}`); process.exitCode = 1; },
);
