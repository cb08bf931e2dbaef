// The chatsafe command's `#!/usr/bin/env -S [NAME=value ...] node [option ...]` line (see
// bin/chatsafe.js): the variables it sets and the options it gives node. The web mode
// (electron/start.mjs) and the tests start the command with both, as a user's shell does.
import { readFileSync } from 'node:fs';

/** @param {string} bin the path of bin/chatsafe.js */
export function binLine(bin) {
  const words = readFileSync(bin, 'utf8').split('\n')[0].replace(/^#!\/usr\/bin\/env\s+(-S\s+)?/, '').split(' ').filter(Boolean);
  /** @type {Record<string, string>} */
  const env = {};
  while (words.length > 0 && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0])) {
    const word = words.shift();
    env[word.slice(0, word.indexOf('='))] = word.slice(word.indexOf('=') + 1);
  }
  return { env, options: words.slice(1) };
}
