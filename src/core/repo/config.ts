/**
 * The repository header, `config`: the one cleartext object. It says what
 * support staff may know without the key (format version, creation time, app
 * version) and nothing about content. It is written once and never changed;
 * its SHA-256 is bound into every key slot, so a modified header is detected
 * as soon as the repository is unlocked.
 */
import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { ChatsafeError, IntegrityError } from '../errors.js';

export const FORMAT_NAME = 'chatsafe-repository';
export const FORMAT_VERSION = 1;

const ConfigSchema = z
  .object({
    format: z.literal(FORMAT_NAME),
    version: z.number().int(),
    id: z.string().regex(/^[0-9a-f]{32}$/),
    created: z.string().datetime(),
    appVersion: z.string().max(64),
  })
  .strict();
export type RepoConfig = z.infer<typeof ConfigSchema>;

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
