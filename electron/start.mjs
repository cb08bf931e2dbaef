#!/usr/bin/env node
// `npm start` (after the build): the desktop app when an Electron runtime is
// here (node_modules/electron's download, or ELECTRON_OVERRIDE_DIST_PATH);
// otherwise one line saying so, then the local web mode (`chatsafe ui`),
// which opens the system browser if there is one and prints the address.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { binLine } from './bin-line.mjs';

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

const binary = electronBinary();
// The web mode runs as the command does: with its #! line's variables and node options.
const line = binLine(bin);
const [command, args, env, what] = binary
  ? [binary, [join(root, 'dist', 'electron', 'main.js')], process.env, 'electron']
  : [process.execPath, [...line.options, bin, 'ui', ...process.argv.slice(2)], { ...process.env, ...line.env }, 'web'];
if (what === 'web') console.log('The Electron runtime is not available on this machine (set ELECTRON_OVERRIDE_DIST_PATH to use one); starting the local web mode instead.');
const child = spawn(command, args, { stdio: 'inherit', env });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
