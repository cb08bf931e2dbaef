import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from '../args.js';
import { UsageError } from '../../core/errors.js';
import { DEFAULT_RENDERER_DIR, startWebServer } from '../../app/http/server.js';
import { Router } from '../../app/router.js';
import { defaultConfigDir, SettingsStore } from '../../app/settings-store.js';
import { defaultIndexCacheDir } from '../../core/repo/index-cache.js';
import type { Command } from '../command.js';
import type { CliIO } from '../io.js';

export const uiCommand: Command = {
  name: 'ui',
  summary: 'open the app in a web browser on this computer (local web mode)',
  usage: `Usage: chatsafe ui [--port N] [--no-open]

Serves the Chatsafe window on http://127.0.0.1 (this computer only) and opens
it in the system browser. The address carries a random token made for this
launch; nobody else on the machine can use the app without it. Stop with
Ctrl-C.

  --port N     listen on port N (default: any free port)
  --no-open    print the address instead of opening a browser`,
  async run(args: string[], io: CliIO): Promise<number> {
    const { values, positionals } = parseArgs({ args, options: { port: { type: 'string' }, 'no-open': { type: 'boolean', default: false } }, allowPositionals: true });
    if (positionals.length > 0) throw new UsageError(`Unexpected argument "${positionals[0]}".`, 'Run `chatsafe ui --help`.');
    let port = 0;
    if (values.port !== undefined) {
      if (!/^\d{1,5}$/.test(values.port) || Number(values.port) > 65535) throw new UsageError(`--port must be a port number (got "${values.port}").`);
      port = Number(values.port);
    }
    if (!existsSync(join(DEFAULT_RENDERER_DIR, 'index.html'))) {
      throw new UsageError('The app window is not built.', 'Run `npm run build` in the Chatsafe folder first.');
    }
    const router = new Router({ front: 'web', settings: new SettingsStore(join(defaultConfigDir(io.env), 'settings.json')), indexCacheDir: defaultIndexCacheDir(io.env) });
    const web = await startWebServer({ router, port }).catch((e: NodeJS.ErrnoException) => {
      throw new UsageError(`Cannot listen on 127.0.0.1:${port} (${e.code ?? 'error'}).`, 'Choose another --port, or leave it out to use any free port.');
    });
    const opened = !values['no-open'] && openBrowser(web.launchUrl);
    io.stdout.write(`Chatsafe is running at ${web.launchUrl}\n${opened ? 'Opened in your browser. ' : ''}Keep this address private; stop with Ctrl-C.\n`);
    await new Promise<void>((r) => (io.signal.aborted ? r() : io.signal.addEventListener('abort', () => r(), { once: true })));
    await web.close();
    await router.dispose();
    return 0;
  },
};

/** Set for this command by its `#!` line (bin/chatsafe.js): tuned for a backup, not for a browser. */
const COMMAND_ONLY_VARIABLES = ['MALLOC_MMAP_THRESHOLD_', 'MALLOC_ARENA_MAX', 'GLIBC_TUNABLES'];

/** The environment the browser opens in: this one, without what the `#!` line set for the command alone. */
export function browserEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out = { ...env };
  for (const name of COMMAND_ONLY_VARIABLES) delete out[name];
  return out;
}

/** Opens the system browser when there is one; returns whether it tried. */
export function openBrowser(url: string): boolean {
  const opener = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? null : 'xdg-open';
  if (process.platform === 'win32') {
    spawn('cmd', ['/c', 'start', '', url], { detached: true, stdio: 'ignore' }).unref();
    return true;
  }
  if (!opener || spawnSync('sh', ['-c', `command -v ${opener}`]).status !== 0) return false;
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) return false;
  const child = spawn(opener, [url], { detached: true, stdio: 'ignore', env: browserEnv(process.env) });
  child.on('error', () => undefined);
  child.unref();
  return true;
}
