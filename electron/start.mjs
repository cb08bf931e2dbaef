#!/usr/bin/env node
// `npm start` (after the build): the desktop app when an Electron runtime is
// here (node_modules/electron's download, or ELECTRON_OVERRIDE_DIST_PATH);
// otherwise one line saying so, then the local web mode (`chatsafe ui`),
// which opens the system browser if there is one and prints the address.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function electronBinary() {
  try {
    const path = createRequire(import.meta.url)('electron');
    return typeof path === 'string' && existsSync(path) ? path : null;
  } catch {
    return null;
  }
}

const bin = join(root, 'bin', 'chatsafe.js');

/**
 * The variables and node options of the chatsafe command's `#!/usr/bin/env -S [NAME=value ...] node
 * [option ...]` line (see bin/chatsafe.js), so the web mode runs as the command does.
 */
function binLine() {
  const words = readFileSync(bin, 'utf8').split('\n')[0].replace(/^#!\/usr\/bin\/env\s+(-S\s+)?/, '').split(' ').filter(Boolean);
  const env = {};
  while (words.length > 0 && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0])) {
    const word = words.shift();
    env[word.slice(0, word.indexOf('='))] = word.slice(word.indexOf('=') + 1);
  }
  return { env, options: words.slice(1) };
}

const binary = electronBinary();
const line = binLine();
const [command, args, env, what] = binary
  ? [binary, [join(root, 'dist', 'electron', 'main.js')], process.env, 'electron']
  : [process.execPath, [...line.options, bin, 'ui', ...process.argv.slice(2)], { ...process.env, ...line.env }, 'web'];
if (what === 'web') console.log('The Electron runtime is not available on this machine (set ELECTRON_OVERRIDE_DIST_PATH to use one); starting the local web mode instead.');
const child = spawn(command, args, { stdio: 'inherit', env });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
