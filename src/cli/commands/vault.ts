/** `chatsafe vault serve`: runs a key vault node for password-mode backups. */
import { parseArgs } from '../args.js';
import type { Command } from '../command.js';
import type { CliIO } from '../io.js';
import { EXIT } from '../exit-codes.js';
import { UsageError } from '../../core/errors.js';
import { startVault, type VaultServeConfig } from '../../vault-server/serve.js';

const USAGE = `Usage: chatsafe vault serve [OPTIONS]

Runs a key vault node: it keeps password-protected backup keys with OPAQUE,
never sees passwords or keys, and destroys a key after too many wrong guesses.
Logs are JSON lines on standard output. Stops cleanly on Ctrl-C or SIGTERM.

Options:
  --listen HOST:PORT          address to listen on (default 127.0.0.1:8787; port 0 picks a free one)
  --db FILE|postgres://...    SQLite file (default chatsafe-vault.db), or PostgreSQL shared by several nodes
                              (put the database password in PGPASSWORD rather than in the URL)
  --tls-cert FILE --tls-key FILE
                              serve HTTPS with this certificate and key (PEM)
  --max-attempts N            wrong guesses before a key is destroyed (default 10, 1-100)
  --pkcs11-module PATH        PKCS#11 library of the HSM holding the master key
  --pkcs11-token LABEL        token label in that HSM
  --pkcs11-pin-file FILE      file holding the token's user PIN
  --pkcs11-key-label LABEL    label of the master key object (default chatsafe-vault-master;
                              created in the token on first start)
  --insecure-dev-master-key FILE
                              development only: keep the master key in a plain file (created if absent)
  --rate-ip N                 requests per minute per client address (default 120; 0 disables)
  --rate-account N            requests per minute per account (default 30; 0 disables)
  --login-timeout SECONDS     time a client has to finish a login it started (default 60)
`;

function intOption(value: string | undefined, name: string, dflt: number, min: number, max: number): number {
  if (value === undefined) return dflt;
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) throw new UsageError(`--${name} must be a whole number from ${min} to ${max}.`, `Run \`chatsafe vault serve --help\` for usage.`);
  return Number(value);
}

function parseListen(value: string): { host: string; port: number } {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:\s]+):(\d{1,5})$/.exec(value);
  if (!m || Number(m[2]) > 65535) throw new UsageError(`--listen must be HOST:PORT (got "${value}").`, 'For example --listen 127.0.0.1:8787, or --listen 0.0.0.0:443 behind TLS.');
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}

export function parseServeArgs(args: string[], io: CliIO): VaultServeConfig {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      listen: { type: 'string' },
      db: { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      'max-attempts': { type: 'string' },
      'pkcs11-module': { type: 'string' },
      'pkcs11-token': { type: 'string' },
      'pkcs11-pin-file': { type: 'string' },
      'pkcs11-key-label': { type: 'string' },
      'insecure-dev-master-key': { type: 'string' },
      'rate-ip': { type: 'string' },
      'rate-account': { type: 'string' },
      'login-timeout': { type: 'string' },
    },
  });
  if (positionals.length > 0) throw new UsageError(`Unexpected argument "${positionals[0]}".`, 'Run `chatsafe vault serve --help` for usage.');
  if (!values['tls-cert'] !== !values['tls-key']) throw new UsageError('--tls-cert and --tls-key go together.', 'Give both, or neither for plain HTTP on a trusted network.');
  const pkcs11 = [values['pkcs11-module'], values['pkcs11-token'], values['pkcs11-pin-file']];
  const devKey = values['insecure-dev-master-key'];
  let masterKey: VaultServeConfig['masterKey'];
  if (pkcs11.some((v) => v !== undefined)) {
    if (devKey) throw new UsageError('Use either the HSM (--pkcs11-*) or --insecure-dev-master-key, not both.');
    if (pkcs11.some((v) => v === undefined)) throw new UsageError('The HSM needs --pkcs11-module, --pkcs11-token and --pkcs11-pin-file together.');
    masterKey = { kind: 'pkcs11', modulePath: pkcs11[0]!, tokenLabel: pkcs11[1]!, pinFile: pkcs11[2]!, keyLabel: values['pkcs11-key-label'] ?? 'chatsafe-vault-master', createIfMissing: true };
  } else if (devKey) {
    masterKey = { kind: 'insecure-dev-file', path: devKey };
  } else {
    throw new UsageError(
      'The vault needs a master key held in an HSM.',
      'Give --pkcs11-module, --pkcs11-token and --pkcs11-pin-file (SoftHSM2 works for testing), or, for development only, --insecure-dev-master-key FILE.',
    );
  }
  const { host, port } = parseListen(values.listen ?? '127.0.0.1:8787');
  return {
    host,
    port,
    db: values.db ?? 'chatsafe-vault.db',
    ...(values['tls-cert'] ? { tls: { certPath: values['tls-cert'], keyPath: values['tls-key']! } } : {}),
    maxAttempts: intOption(values['max-attempts'], 'max-attempts', 10, 1, 100),
    masterKey,
    ratePerIp: intOption(values['rate-ip'], 'rate-ip', 120, 0, 1_000_000),
    ratePerAccount: intOption(values['rate-account'], 'rate-account', 30, 0, 1_000_000),
    loginTimeoutMs: intOption(values['login-timeout'], 'login-timeout', 60, 5, 3600) * 1000,
    log: io.stdout,
  };
}

async function serve(args: string[], io: CliIO): Promise<number> {
  const vault = await startVault(parseServeArgs(args, io));
  await new Promise<void>((resolve) => {
    if (io.signal.aborted) resolve();
    else io.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  await vault.close();
  return EXIT.ok;
}

export const vaultCommand: Command = {
  name: 'vault',
  summary: 'run the password key vault server (vault serve)',
  usage: USAGE,
  async run(args, io) {
    const [sub, ...rest] = args;
    if (sub === 'serve') return serve(rest, io);
    throw new UsageError(sub === undefined ? 'Missing subcommand.' : `Unknown subcommand "${sub}".`, 'The vault command has one subcommand: `chatsafe vault serve`. Run `chatsafe vault --help` for usage.');
  },
};
