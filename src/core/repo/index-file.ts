/**
 * The index: which pack holds each blob, and where. Index files are written
 * after the packs they describe (so an index never points at a missing pack),
 * periodically during a backup (so an interrupted backup resumes without
 * uploading again what already landed), and consolidated by prune.
 */
import { BLOB_TYPES, maxRawLength, type BlobType } from './blob.js';
import { isHex64, isIntIn, isRecord, Malformed, rejectUnknownKeys, validatorOf } from './json-shape.js';
import type { PackEntry } from './pack.js';

export interface IndexBlob {
  id: string;
  type: BlobType;
  offset: number;
  length: number;
  rawLength: number;
}

export interface IndexPack {
  id: string;
  size: number;
  blobs: IndexBlob[];
}

export interface IndexFile {
  v: 1;
  packs: IndexPack[];
  /** Index files whose content this one includes; prune deletes them after writing it. */
  supersedes: string[];
}

const FILE_KEYS: ReadonlySet<string> = new Set(['v', 'packs', 'supersedes']);
const PACK_KEYS: ReadonlySet<string> = new Set(['id', 'size', 'blobs']);
const BLOB_KEYS: ReadonlySet<string> = new Set(['id', 'type', 'offset', 'length', 'rawLength']);
const BLOB_TYPE_NAMES: ReadonlySet<string> = new Set(Object.keys(BLOB_TYPES));

/**
 * Strict: unknown keys, non-integers, out-of-range numbers and ids other than
 * 64 lowercase hex digits are refused, naming the first bad field's path.
 * Arrays and entries are returned as parsed (they are checked in place, not
 * copied: an index file holds tens of thousands of blobs).
 */
function parseIndexFile(json: unknown): IndexFile {
  if (!isRecord(json)) throw new Malformed([], 'expected an object');
  if (json.v !== 1) throw new Malformed(['v'], 'expected 1');
  const packs = json.packs;
  if (!Array.isArray(packs)) throw new Malformed(['packs'], 'expected an array');
  for (let i = 0; i < packs.length; i++) checkPack(packs[i], i);
  const supersedes = json.supersedes;
  if (supersedes !== undefined) {
    if (!Array.isArray(supersedes)) throw new Malformed(['supersedes'], 'expected an array');
    for (let i = 0; i < supersedes.length; i++) if (!isHex64(supersedes[i])) throw new Malformed(['supersedes', i], 'expected 64 hex digits');
  }
  rejectUnknownKeys(json, supersedes === undefined ? 2 : 3, FILE_KEYS, []);
  return { v: 1, packs: packs as IndexPack[], supersedes: supersedes === undefined ? [] : (supersedes as string[]) };
}

function checkPack(p: unknown, i: number): void {
  if (!isRecord(p)) throw new Malformed(['packs', i], 'expected an object');
  if (!isHex64(p.id)) throw new Malformed(['packs', i, 'id'], 'expected 64 hex digits');
  if (!isIntIn(p.size, 1, Number.MAX_SAFE_INTEGER)) throw new Malformed(['packs', i, 'size'], 'expected a positive integer');
  const blobs = p.blobs;
  if (!Array.isArray(blobs)) throw new Malformed(['packs', i, 'blobs'], 'expected an array');
  for (let j = 0; j < blobs.length; j++) checkBlob(blobs[j], i, j);
  rejectUnknownKeys(p, 3, PACK_KEYS, ['packs', i]);
}

function checkBlob(b: unknown, i: number, j: number): void {
  if (!isRecord(b)) throw new Malformed(['packs', i, 'blobs', j], 'expected an object');
  if (!isHex64(b.id)) throw new Malformed(['packs', i, 'blobs', j, 'id'], 'expected 64 hex digits');
  if (!BLOB_TYPE_NAMES.has(b.type as string)) throw new Malformed(['packs', i, 'blobs', j, 'type'], `expected one of ${[...BLOB_TYPE_NAMES].join(', ')}`);
  if (!isIntIn(b.offset, 0, Number.MAX_SAFE_INTEGER)) throw new Malformed(['packs', i, 'blobs', j, 'offset'], 'expected a non-negative integer');
  if (!isIntIn(b.length, 1, Number.MAX_SAFE_INTEGER)) throw new Malformed(['packs', i, 'blobs', j, 'length'], 'expected a positive integer');
  const max = maxRawLength(b.type as BlobType);
  if (!isIntIn(b.rawLength, 0, max)) throw new Malformed(['packs', i, 'blobs', j, 'rawLength'], `expected an integer from 0 to ${max}`);
  rejectUnknownKeys(b, 5, BLOB_KEYS, ['packs', i, 'blobs', j]);
}

/** Validates a parsed index file; named like the zod schema it replaced, with the same `safeParse`. */
export const IndexFileSchema = validatorOf(parseIndexFile);

export interface BlobLocation {
  readonly pack: string;
  readonly type: BlobType;
  readonly offset: number;
  readonly length: number;
  readonly rawLength: number;
}

export interface PackRecord {
  readonly id: string;
  readonly size: number;
  readonly entries: readonly PackEntry[];
}

/** Index files that another present file says it includes. */
export function supersededIn(files: ReadonlyMap<string, IndexFile>): Set<string> {
  const out = new Set<string>();
  for (const [name, f] of files) for (const old of f.supersedes) if (old !== name && files.has(old)) out.add(old);
  return out;
}
