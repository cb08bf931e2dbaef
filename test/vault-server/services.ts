/**
 * Real services for the vault tests: a throwaway SoftHSM2 token and
 * PostgreSQL cluster (scripts/services/*.sh), and vault nodes run as real
 * processes of the built CLI. Everything lives in one temp folder per suite.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, createWriteStream, readFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { CLI_BIN, REPO_ROOT } from '../helpers/fixtures.js';

function hasCommand(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;
}

function pgAvailable(): boolean {
  return hasCommand('pg_ctl') || readdirSafe('/usr/lib/postgresql').length > 0;
}

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

export const SKIP_HSM: string | false = hasCommand('softhsm2-util') ? false : 'SoftHSM2 is not installed (Debian package softhsm2); the vault tests need it';
export const SKIP_PG: string | false = SKIP_HSM || (pgAvailable() ? false : 'PostgreSQL is not installed (Debian package postgresql)');

function runScript(script: string, args: string[]): Record<string, string> {
  const r = spawnSync('bash', [resolve(REPO_ROOT, 'scripts/services', script), ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${script} ${args[0]} failed: ${r.stderr}`);
  return Object.fromEntries(r.stdout.trim().split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

export interface Hsm {
  conf: string;
  module: string;
  token: string;
  pinFile: string;
  dir: string;
}

export interface Postgres {
  url: string;
  dataDir: string;
}

/** One temp folder with an HSM token (and PostgreSQL when asked); `stop` removes everything. */
export class Services {
  readonly dir = mkdtempSync(join(tmpdir(), 'chatsafe-vault-test-'));
  readonly hsm: Hsm;
  pg: Postgres | undefined;
  private readonly nodes = new Set<VaultNode>();

  constructor() {
    const env = runScript('softhsm.sh', ['start', join(this.dir, 'hsm')]);
    this.hsm = { conf: env.SOFTHSM2_CONF!, module: env.PKCS11_MODULE!, token: env.PKCS11_TOKEN!, pinFile: env.PKCS11_PIN_FILE!, dir: join(this.dir, 'hsm') };
  }

  startPostgres(): Postgres {
    const env = runScript('postgres.sh', ['start', join(this.dir, 'pg')]);
    this.pg = { url: env.DATABASE_URL!, dataDir: env.PGDATA! };
    return this.pg;
  }

  /** Starts `chatsafe vault serve` on a free port and waits until it listens. */
  async startNode(db: string, extra: string[] = [], name = `node${this.nodes.size}`): Promise<VaultNode> {
    const node = new VaultNode(this, db, extra, name);
    this.nodes.add(node);
    await node.ready;
    return node;
  }

  hsmArgs(): string[] {
    return ['--pkcs11-module', this.hsm.module, '--pkcs11-token', this.hsm.token, '--pkcs11-pin-file', this.hsm.pinFile];
  }

  async stop(): Promise<void> {
    await Promise.all([...this.nodes].map((n) => n.stop()));
    if (this.pg) runScript('postgres.sh', ['stop', join(this.dir, 'pg')]);
    runScript('softhsm.sh', ['stop', this.hsm.dir]);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export class VaultNode {
  readonly logPath: string;
  readonly ready: Promise<void>;
  url = '';
  private child: ChildProcess;
  private exited: Promise<number | null>;

  constructor(
    private readonly services: Services,
    readonly db: string,
    readonly extra: string[],
    readonly name: string,
  ) {
    this.logPath = join(services.dir, `${name}-${Date.now()}.log`);
    const args = [CLI_BIN, 'vault', 'serve', '--listen', '127.0.0.1:0', '--db', db, ...services.hsmArgs(), ...extra];
    this.child = spawn(process.execPath, args, { env: { ...process.env, SOFTHSM2_CONF: services.hsm.conf }, stdio: ['ignore', 'pipe', 'pipe'] });
    const log = createWriteStream(this.logPath);
    this.child.stderr!.pipe(log, { end: false });
    this.exited = new Promise((res) => this.child.once('exit', (code) => res(code)));
    this.ready = new Promise((res, rej) => {
      const lines = createInterface({ input: this.child.stdout! });
      lines.on('line', (line) => {
        log.write(`${line}\n`);
        if (!this.url && line.includes('"vault listening"')) {
          this.url = (JSON.parse(line) as { listen: string }).listen;
          res();
        }
      });
      this.exited.then((code) => rej(new Error(`vault ${name} exited (${code}) before listening: ${readFileSync(this.logPath, 'utf8').slice(-2000)}`)));
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  log(): string {
    return readFileSync(this.logPath, 'utf8');
  }

  /** SIGTERM (clean stop) or SIGKILL (a crash); resolves once the process is gone. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.alive) this.child.kill(signal);
    return this.exited;
  }
}

/** Every regular file under `dir`, recursively. */
export function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSafe(dir)) {
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) out.push(...filesUnder(p));
    else if (st.isFile()) out.push(p);
  }
  return out;
}
