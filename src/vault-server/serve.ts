/** Starts a vault node from its configuration: store, master key, service, HTTP(S) listener. */
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { ChatsafeError } from '../core/errors.js';
import { APP_VERSION } from '../core/version.js';
import { createVaultHttpServer } from './http.js';
import { jsonLogger } from './logger.js';
import { openInsecureDevMasterKey, type MasterKey } from './master-key.js';
import { openPkcs11MasterKey, type Pkcs11Options } from './pkcs11-master-key.js';
import { VaultService } from './service.js';
import { PostgresStore } from './store/postgres.js';
import { SqliteStore } from './store/sqlite.js';
import type { VaultStore } from './store/store.js';

export interface VaultServeConfig {
  host: string;
  port: number;
  /** A SQLite file path, or a postgres:// connection string. */
  db: string;
  tls?: { certPath: string; keyPath: string };
  maxAttempts: number;
  masterKey: ({ kind: 'pkcs11' } & Pkcs11Options) | { kind: 'insecure-dev-file'; path: string };
  ratePerIp: number;
  ratePerAccount: number;
  loginTimeoutMs: number;
  log: NodeJS.WritableStream;
}

export interface RunningVault {
  readonly url: string;
  close(): Promise<void>;
}

export function openStore(db: string): VaultStore {
  return /^postgres(ql)?:\/\//.test(db) ? new PostgresStore(db) : new SqliteStore(db);
}

function openMasterKey(cfg: VaultServeConfig['masterKey']): MasterKey {
  return cfg.kind === 'pkcs11' ? openPkcs11MasterKey(cfg) : openInsecureDevMasterKey(cfg.path);
}

function readTls(tls: NonNullable<VaultServeConfig['tls']>): { cert: Buffer; key: Buffer } {
  try {
    return { cert: readFileSync(tls.certPath), key: readFileSync(tls.keyPath) };
  } catch (e) {
    throw new ChatsafeError('io', `Cannot read the TLS certificate or key (${(e as NodeJS.ErrnoException).code ?? 'error'}).`, 'Check --tls-cert and --tls-key.', { cause: e });
  }
}

export async function startVault(cfg: VaultServeConfig): Promise<RunningVault> {
  const log = jsonLogger(cfg.log);
  const tls = cfg.tls ? readTls(cfg.tls) : undefined;
  const master = openMasterKey(cfg.masterKey);
  const store = openStore(cfg.db);
  let service: VaultService;
  try {
    service = await VaultService.create(store, master, log, { maxAttempts: cfg.maxAttempts, loginTimeoutMs: cfg.loginTimeoutMs, ticketTimeoutMs: 120_000 });
  } catch (e) {
    await store.close().catch(() => undefined);
    master.close();
    throw e;
  }
  const server = createVaultHttpServer(service, log, { ratePerIp: cfg.ratePerIp, ratePerAccount: cfg.ratePerAccount, ...(tls ? { tls } : {}) });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(new ChatsafeError('io', `Cannot listen on ${cfg.host}:${cfg.port} (${e.code ?? e.message}).`, 'Choose another --listen address or stop what uses this port.', { cause: e })),
    );
    server.listen(cfg.port, cfg.host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  const url = `${tls ? 'https' : 'http'}://${host}:${addr.port}`;
  const sweeper = setInterval(() => service.sweep().catch(() => undefined), 60_000);
  sweeper.unref();
  log.info('vault listening', { listen: url, store: store.kind, masterKey: master.kind, maxAttempts: cfg.maxAttempts, node: service.node, version: APP_VERSION });
  if (master.kind === 'insecure-dev-file') log.warn('the master key is a plain file (--insecure-dev-master-key): for development only, never for real users');
  let closed = false;
  return {
    url,
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(sweeper);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      await store.close();
      master.close();
      log.info('vault stopped', { node: service.node });
    },
  };
}
