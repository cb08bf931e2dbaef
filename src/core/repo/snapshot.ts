/**
 * Snapshots: the manifest of one backup. A snapshot is written last, after
 * every pack and index it needs, so a snapshot that exists is complete.
 */
import { isHex64, isIntIn, isIsoDateTime, isNonNegative, isRecord, isStringUpTo, Malformed, rejectUnknownKeys, validatorOf, type JsonValidator } from './json-shape.js';
import { ChunkList } from './chunk-list.js';

export const SOURCE_KINDS = [
  'files',
  'whatsapp-android',
  'whatsapp-android-crypt',
  'whatsapp-ios',
  'whatsapp-ios-backup',
  'whatsapp-export-text',
  'telegram-json',
] as const;
export type SourceKind = (typeof SOURCE_KINDS)[number];

export interface SnapshotCatalog {
  size: number;
  content: ChunkList;
}

export interface SnapshotSummary {
  files: number;
  dirs: number;
  bytes: number;
  newBytes: number;
  storedBytes: number;
  durationMs: number;
}

export interface Snapshot {
  v: 1;
  /** UTC, as `Date#toISOString` writes it. */
  time: string;
  hostname: string;
  appVersion: string;
  /** The absolute source paths as given, for display and for finding the parent snapshot. */
  paths: string[];
  tree: string;
  parent: string | null;
  /** One of SOURCE_KINDS when written by this version; a newer one may write kinds it does not know. */
  sourceKind: SourceKind | (string & {});
  /** The chat catalog (a SQLite file) when the source was recognised. */
  catalog: SnapshotCatalog | null;
  /**
   * Fingerprint of the source files the catalog was built from (paths, types, permission bits,
   * sizes, times, inodes; `ScanResult.fingerprint`): a later backup whose scan has the same one
   * takes this snapshot's tree and catalog.
   */
  catalogSource?: string | undefined;
  summary: SnapshotSummary;
}

export interface SnapshotRecord {
  readonly id: string;
  readonly snapshot: Snapshot;
}

const MAX_HOSTNAME = 255;
const MAX_APP_VERSION = 64;
const MAX_PATH = 4096;
const MAX_SOURCE_KIND = 64;
const MAX_INT = Number.MAX_SAFE_INTEGER;

const SNAPSHOT_KEYS: ReadonlySet<string> = new Set(['v', 'time', 'hostname', 'appVersion', 'paths', 'tree', 'parent', 'sourceKind', 'catalog', 'catalogSource', 'summary']);
const CATALOG_KEYS: ReadonlySet<string> = new Set(['size', 'content']);
const SUMMARY_KEYS: ReadonlySet<string> = new Set(['files', 'dirs', 'bytes', 'newBytes', 'storedBytes', 'durationMs']);
const SUMMARY_COUNTS = ['files', 'dirs', 'bytes', 'newBytes', 'storedBytes'] as const;

/**
 * Strict: unknown keys are refused at every level, ids are 64 lowercase hex
 * digits, counts are non-negative integers. A missing `catalog` (snapshots
 * written before catalogs existed) reads as null. Returns a fresh object.
 */
function parseSnapshot(json: unknown): Snapshot {
  if (!isRecord(json)) throw new Malformed([], 'expected an object');
  if (json.v !== 1) throw new Malformed(['v'], 'expected 1');
  if (!isIsoDateTime(json.time)) throw new Malformed(['time'], 'expected a UTC date and time');
  if (!isStringUpTo(json.hostname, MAX_HOSTNAME)) throw new Malformed(['hostname'], `expected a string of at most ${MAX_HOSTNAME} characters`);
  if (!isStringUpTo(json.appVersion, MAX_APP_VERSION)) throw new Malformed(['appVersion'], `expected a string of at most ${MAX_APP_VERSION} characters`);
  const paths = json.paths;
  if (!Array.isArray(paths)) throw new Malformed(['paths'], 'expected an array');
  for (let i = 0; i < paths.length; i++) if (!isStringUpTo(paths[i], MAX_PATH)) throw new Malformed(['paths', i], `expected a path of at most ${MAX_PATH} characters`);
  if (paths.length < 1) throw new Malformed(['paths'], 'expected at least one path');
  if (!isHex64(json.tree)) throw new Malformed(['tree'], 'expected 64 hex digits');
  if (json.parent !== null && !isHex64(json.parent)) throw new Malformed(['parent'], 'expected 64 hex digits or null');
  if (!isStringUpTo(json.sourceKind, MAX_SOURCE_KIND)) throw new Malformed(['sourceKind'], `expected a string of at most ${MAX_SOURCE_KIND} characters`);
  let present = 9;
  const catalog = json.catalog === undefined ? null : parseCatalog(json.catalog);
  if (json.catalog !== undefined) present++;
  const catalogSource = json.catalogSource;
  if (catalogSource !== undefined) {
    if (!isHex64(catalogSource)) throw new Malformed(['catalogSource'], 'expected 64 hex digits');
    present++;
  }
  const summary = parseSummary(json.summary);
  rejectUnknownKeys(json, present, SNAPSHOT_KEYS, []);
  // Keys in the order the schema lists them, as before: the object may be serialized again (bundles).
  return {
    v: 1,
    time: json.time,
    hostname: json.hostname,
    appVersion: json.appVersion,
    paths: paths as string[],
    tree: json.tree,
    parent: json.parent,
    sourceKind: json.sourceKind,
    catalog,
    ...(catalogSource === undefined ? {} : { catalogSource }),
    summary,
  };
}

function parseCatalog(c: unknown): SnapshotCatalog | null {
  if (c === null) return null;
  if (!isRecord(c)) throw new Malformed(['catalog'], 'expected an object or null');
  if (!isIntIn(c.size, 0, MAX_INT)) throw new Malformed(['catalog', 'size'], 'expected a non-negative integer');
  const content = c.content;
  if (!Array.isArray(content)) throw new Malformed(['catalog', 'content'], 'expected an array');
  for (let i = 0; i < content.length; i++) if (!isHex64(content[i])) throw new Malformed(['catalog', 'content', i], 'expected 64 hex digits');
  rejectUnknownKeys(c, 2, CATALOG_KEYS, ['catalog']);
  return { size: c.size, content: ChunkList.ofHex(content) };
}

function parseSummary(s: unknown): SnapshotSummary {
  if (!isRecord(s)) throw new Malformed(['summary'], 'expected an object');
  for (const key of SUMMARY_COUNTS) if (!isIntIn(s[key], 0, MAX_INT)) throw new Malformed(['summary', key], 'expected a non-negative integer');
  if (!isNonNegative(s.durationMs)) throw new Malformed(['summary', 'durationMs'], 'expected a non-negative number');
  rejectUnknownKeys(s, 6, SUMMARY_KEYS, ['summary']);
  const { files, dirs, bytes, newBytes, storedBytes, durationMs } = s as unknown as SnapshotSummary;
  return { files, dirs, bytes, newBytes, storedBytes, durationMs };
}

/** Validates a decrypted snapshot; named like the zod schema it replaced, with the same `safeParse`. */
export const SnapshotSchema: JsonValidator<Snapshot> = validatorOf(parseSnapshot);

export function shortId(id: string): string {
  return id.slice(0, 8);
}
