/**
 * The repository header, `config`: the one cleartext object. It says what
 * support staff may know without the key (format version, creation time, app
 * version) and nothing about content. It is written once and never changed;
 * its SHA-256 is bound into every key slot, so a modified header is detected
 * as soon as the repository is unlocked.
 */
import { createHash, randomBytes } from 'node:crypto';
import { ChatsafeError, IntegrityError } from '../errors.js';
import { isIntIn, isIsoDateTime, isLowerHex, isPrintableUpTo, isRecord, Malformed, rejectUnknownKeys, validatorOf, type JsonValidator } from './json-shape.js';

export const FORMAT_NAME = 'chatsafe-repository';
export const FORMAT_VERSION = 1;

export interface RepoConfig {
  format: typeof FORMAT_NAME;
  version: number;
  /** 32 lowercase hex digits, random. */
  id: string;
  /** UTC, as `Date#toISOString` writes it. */
  created: string;
  appVersion: string;
}

const MAX_APP_VERSION = 64;
const CONFIG_KEYS: ReadonlySet<string> = new Set(['format', 'version', 'id', 'created', 'appVersion']);

/** Strict, like every repository object: unknown keys are refused. Exported for its tests. */
export const ConfigSchema: JsonValidator<RepoConfig> = validatorOf((json) => {
  if (!isRecord(json)) throw new Malformed([], 'expected an object');
  if (json.format !== FORMAT_NAME) throw new Malformed(['format'], `expected ${FORMAT_NAME}`);
  if (!isIntIn(json.version, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER)) throw new Malformed(['version'], 'expected an integer');
  if (!isLowerHex(json.id, 32)) throw new Malformed(['id'], 'expected 32 hex digits');
  if (!isIsoDateTime(json.created)) throw new Malformed(['created'], 'expected a UTC date and time');
  if (!isPrintableUpTo(json.appVersion, MAX_APP_VERSION)) throw new Malformed(['appVersion'], `expected at most ${MAX_APP_VERSION} characters and no control characters`);
  rejectUnknownKeys(json, 5, CONFIG_KEYS, []);
  return { format: FORMAT_NAME, version: json.version, id: json.id, created: json.created, appVersion: json.appVersion };
});

export function newConfig(appVersion: string): RepoConfig {
  return { format: FORMAT_NAME, version: FORMAT_VERSION, id: randomBytes(16).toString('hex'), created: new Date().toISOString(), appVersion };
}

export function encodeConfig(config: RepoConfig): Buffer {
  return Buffer.from(`${JSON.stringify(config, null, 2)}\n`, 'utf8');
}

export function decodeConfig(bytes: Buffer): { config: RepoConfig; hash: Buffer } {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new IntegrityError('config', 'the repository header is not valid JSON', 'This is not a Chatsafe repository, or its header is damaged.');
  }
  if ((json as { format?: unknown })?.format !== FORMAT_NAME) {
    throw new ChatsafeError('not-found', 'This is not a Chatsafe repository.', 'Check the path; a repository has a file named `config` at its top.');
  }
  const version = (json as { version?: unknown }).version;
  if (typeof version === 'number' && version > FORMAT_VERSION) {
    throw new ChatsafeError('unsupported', `This repository uses format version ${version}; this Chatsafe reads version ${FORMAT_VERSION}.`, 'Install a newer version of Chatsafe to open it.');
  }
  const parsed = ConfigSchema.safeParse(json);
  if (!parsed.success || parsed.data.version !== FORMAT_VERSION) throw new IntegrityError('config', 'the repository header is malformed');
  return { config: parsed.data, hash: createHash('sha256').update(bytes).digest() };
}
