/**
 * Trees: one blob per directory, listing its entries sorted by name. Because
 * a tree is a blob addressed by its content, an unchanged directory costs
 * nothing in the next snapshot. Names come back from storage as hostile input
 * and are validated so a restore can never escape its target folder.
 */
import { fitsLength, isDecimal, isHex64, isIntIn, isRecord, Malformed, rejectUnknownKeys, validatorOf, type JsonValidator } from './json-shape.js';
import { compareCodeUnits } from '../code-unit-order.js';
import { JsonBytes } from './json-bytes.js';
import { viewOf, type MovableBytes } from '../jobs/transferable.js';
import { ChunkList, HexArena } from './chunk-list.js';
import { liftChunkIds, type LiftedIds } from './lift-chunk-ids.js';

interface NodeCommon {
  name: string;
  mode: number;
  /** Nanoseconds since the epoch, as a decimal string (beyond a double's precision). */
  mtimeNs: string;
}

interface FileCommon extends NodeCommon {
  type: 'file';
  size: number;
  // change detection against the next backup's file system; meaningless elsewhere
  inode?: string | undefined;
  ctimeNs?: string | undefined;
}

/**
 * A file as the run sees it: its chunk ids in order, and, for a file of more than `LIST_IDS`
 * chunks, the ids of the blobs that store them (`chunkLists`). Its listing then names only those
 * blobs: a chat database's pages were 67 bytes of JSON each in its folder's listing, 10.5 MB for
 * the 3 GiB export's database, written, sealed, read and parsed whole wherever the listing was.
 */
export interface FileNode extends FileCommon {
  content: ChunkList;
  chunkLists?: ChunkList | undefined;
}

/** A file node as stored: its chunk ids, or the blobs that hold them, never both. */
export type StoredFileNode = (FileCommon & { content: ChunkList; chunkLists?: undefined }) | (FileCommon & { chunkLists: ChunkList; content?: undefined });

export interface DirNode extends NodeCommon {
  type: 'dir';
  subtree: string;
}

export interface SymlinkNode extends NodeCommon {
  type: 'symlink';
  target: string;
}

export type TreeNode = FileNode | DirNode | SymlinkNode;

export interface Tree {
  nodes: TreeNode[];
}

export type StoredTreeNode = StoredFileNode | DirNode | SymlinkNode;

/**
 * A node as a backup writes it into a listing: as the run sees it, or as stored (a file reused
 * unread, or one whose chunk lists were stored as it was read, has its lists and not its ids).
 */
export type ListingNode = TreeNode | StoredTreeNode;

/** A tree as parsed from its blob, before its files' chunk lists are read (`Repository.loadTree`). */
export interface StoredTree {
  nodes: StoredTreeNode[];
}

/**
 * A file of more than this many chunks keeps them in blobs of their own, this many ids (32 bytes
 * each, 256 KiB) to a blob but the last: a database of 4 KiB pages takes one for every 32 MiB.
 */
export const LIST_IDS = 8192;

/**
 * What a snapshot's trees may expand to (FORMAT.md §8). Folders with the same contents share one
 * tree, so a few small trees can name a folder inside a folder a thousand times over: a restore
 * that followed them would plan files until memory ran out. A backup refuses sources larger than
 * this, and a restore trees that expand further. No path deeper than 2048 folders fits in the
 * 4096 bytes Linux allows a path.
 */
export const MAX_SNAPSHOT_ENTRIES = 10_000_000;
export const MAX_TREE_DEPTH = 2048;

const MAX_NAME = 1024;
const MAX_TARGET = 4096;
const NS_DIGITS = 22;
const INODE_DIGITS = 24;

/** A single path component: no separators, not `.`/`..`, no NUL, not empty, at most 1024 code points. */
export function isSafeName(n: unknown): n is string {
  if (typeof n !== 'string' || !fitsLength(n, 1, MAX_NAME) || n === '.' || n === '..') return false;
  for (let i = 0; i < n.length; i++) {
    const c = n.charCodeAt(i);
    // '/', '\\' and NUL
    if (c === 47 || c === 92 || c === 0) return false;
  }
  return true;
}

/** Permission bits only: a node's kind is its `type`, never type bits in its mode. */
export function isNodeMode(m: unknown): m is number {
  return isIntIn(m, 0, 0o7777);
}

/** Nanoseconds since the epoch as a decimal string, before 1970 with a '-'. */
export function isNodeTime(t: unknown): t is string {
  return isDecimal(t, NS_DIGITS, true);
}

/** A symlink's text: 1 to 4096 code points, no NUL (no file system can hold one). */
export function isLinkTarget(t: unknown): t is string {
  return typeof t === 'string' && fitsLength(t, 1, MAX_TARGET) && !t.includes('\0');
}

/** `isSafeName` with the `safeParse` callers of the former zod schema use. */
export const SafeName: JsonValidator<string> = validatorOf((n) => {
  if (!isSafeName(n)) throw new Malformed([], 'unsafe file name');
  return n;
});

const TREE_KEYS: ReadonlySet<string> = new Set(['nodes']);
const FILE_KEYS: ReadonlySet<string> = new Set(['name', 'mode', 'mtimeNs', 'type', 'size', 'content', 'chunkLists', 'inode', 'ctimeNs']);
const DIR_KEYS: ReadonlySet<string> = new Set(['name', 'mode', 'mtimeNs', 'type', 'subtree']);
const SYMLINK_KEYS: ReadonlySet<string> = new Set(['name', 'mode', 'mtimeNs', 'type', 'target']);

/**
 * Strict, like the index: the node's `type` picks its fields, unknown keys are
 * refused, and names must be safe, sorted and unique (a restore relies on all
 * three). Nodes are checked in place and returned as parsed.
 */
function parseTree(json: unknown, lifted: LiftedIds | null = null): StoredTree {
  if (!isRecord(json)) throw new Malformed([], 'expected an object');
  const nodes = json.nodes;
  if (!Array.isArray(nodes)) throw new Malformed(['nodes'], 'expected an array');
  let previous = '';
  let ids = 0;
  for (let i = 0; i < nodes.length; i++) {
    const name = checkNode(nodes[i], i, lifted !== null);
    if (i > 0 && !(previous < name)) throw new Malformed(['nodes', i, 'name'], 'entries must be sorted and unique');
    previous = name;
    const content: unknown = (nodes[i] as Record<string, unknown>).content;
    if (Array.isArray(content)) ids += content.length;
  }
  rejectUnknownKeys(json, 1, TREE_KEYS, []);
  if (lifted) {
    // Each list the lifting took out stands where it was, once each and in order: the file nodes
    // hold exactly the numbers 0, 1, 2, ... Anything else (a key spelled with escapes, a repeated
    // key) is not the plain form, and the caller parses the text whole instead.
    let next = 0;
    for (const [i, n] of (nodes as Array<Record<string, unknown>>).entries()) {
      if (n.type !== 'file') continue;
      if (n.chunkLists !== undefined) {
        n.chunkLists = ChunkList.ofHex(n.chunkLists as string[]);
        continue;
      }
      if (n.content !== next) throw new Malformed(['nodes', i, 'content'], 'not the lifted list expected here');
      n.content = ChunkList.view(lifted.ids, lifted.firsts[next]!, lifted.counts[next]!);
      next++;
    }
    if (next !== lifted.firsts.length) throw new Malformed(['nodes'], 'a lifted list belongs to no file');
    return json as unknown as StoredTree;
  }
  // Checked: the hex ids become bytes, all the tree's in one arena.
  const arena = new HexArena(ids);
  for (const n of nodes as Array<Record<string, unknown>>) {
    if (n.type !== 'file') continue;
    if (n.chunkLists !== undefined) n.chunkLists = ChunkList.ofHex(n.chunkLists as string[]);
    else n.content = arena.list(n.content as string[]);
  }
  return json as unknown as StoredTree;
}

/**
 * A tree from its stored bytes, its chunk ids lifted out before the rest is parsed (see
 * lift-chunk-ids.ts); a tree not in the plain form is parsed whole, which decides as before.
 * Throws SyntaxError for text that is not JSON, Malformed for JSON that is not a tree.
 */
export function treeFromBytes(bytes: Uint8Array): StoredTree {
  const lifted = liftChunkIds(bytes);
  if (lifted) {
    try {
      return parseTree(JSON.parse(lifted.text), lifted);
    } catch {
      // Not a plain tree: parsed whole below, which says what is wrong with it, if anything.
    }
  }
  return parseTree(JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8')));
}

/** Checks one node; returns its name. `lifted`: a file's content is the number of a lifted list. */
function checkNode(n: unknown, i: number, lifted: boolean): string {
  if (!isRecord(n)) throw new Malformed(['nodes', i], 'expected an object');
  const type = n.type;
  if (type !== 'file' && type !== 'dir' && type !== 'symlink') throw new Malformed(['nodes', i, 'type'], 'expected file, dir or symlink');
  if (!isSafeName(n.name)) throw new Malformed(['nodes', i, 'name'], 'unsafe file name');
  if (!isNodeMode(n.mode)) throw new Malformed(['nodes', i, 'mode'], 'expected an integer from 0 to 0o7777');
  if (!isNodeTime(n.mtimeNs)) throw new Malformed(['nodes', i, 'mtimeNs'], 'expected a decimal time in nanoseconds');
  if (type === 'file') {
    if (!isIntIn(n.size, 0, Number.MAX_SAFE_INTEGER)) throw new Malformed(['nodes', i, 'size'], 'expected a non-negative integer');
    const content = n.content;
    const lists = n.chunkLists;
    if (lists !== undefined) {
      if (content !== undefined) throw new Malformed(['nodes', i], 'a file has content or chunkLists, not both');
      if (!Array.isArray(lists) || lists.length === 0) throw new Malformed(['nodes', i, 'chunkLists'], 'expected an array of at least one id');
      for (let j = 0; j < lists.length; j++) if (!isHex64(lists[j])) throw new Malformed(['nodes', i, 'chunkLists', j], 'expected 64 hex digits');
    } else if (lifted) {
      if (!Number.isSafeInteger(content)) throw new Malformed(['nodes', i, 'content'], 'expected a lifted list');
    } else {
      if (!Array.isArray(content)) throw new Malformed(['nodes', i, 'content'], 'expected an array');
      for (let j = 0; j < content.length; j++) if (!isHex64(content[j])) throw new Malformed(['nodes', i, 'content', j], 'expected 64 hex digits');
    }
    let present = 6;
    if (n.inode !== undefined) {
      if (!isDecimal(n.inode, INODE_DIGITS, false)) throw new Malformed(['nodes', i, 'inode'], 'expected a decimal inode number');
      present++;
    }
    if (n.ctimeNs !== undefined) {
      if (!isNodeTime(n.ctimeNs)) throw new Malformed(['nodes', i, 'ctimeNs'], 'expected a decimal time in nanoseconds');
      present++;
    }
    rejectUnknownKeys(n, present, FILE_KEYS, ['nodes', i]);
  } else if (type === 'dir') {
    if (!isHex64(n.subtree)) throw new Malformed(['nodes', i, 'subtree'], 'expected 64 hex digits');
    rejectUnknownKeys(n, 5, DIR_KEYS, ['nodes', i]);
  } else {
    if (!isLinkTarget(n.target)) throw new Malformed(['nodes', i, 'target'], 'expected a link target of 1 to 4096 characters without NUL');
    rejectUnknownKeys(n, 5, SYMLINK_KEYS, ['nodes', i]);
  }
  return n.name as string;
}

/** Validates a parsed tree; named like the zod schema it replaced, with the same `safeParse`. */
export const TreeSchema: JsonValidator<StoredTree> = validatorOf(parseTree);

/**
 * The bytes of `JSON.stringify(tree)` (tests hold the two to the same bytes, so a tree's id does
 * not depend on which wrote it), with chunk ids copied straight into bytes: a 3 GiB database's
 * listing was 157,000 ids, and its JSON text as a string, then as bytes, was 21 MB at once on top
 * of the ids themselves. A file with `chunkLists` is written with those in place of its
 * `content`, as stored.
 */
export function encodeTree(tree: { readonly nodes: readonly ListingNode[] }): Buffer {
  const listing = new ListingEncoder(null, tree.nodes.length);
  for (const node of tree.nodes) listing.add(node);
  return viewOf(listing.take());
}

/** What a listing's node takes, about: a media file's is 250 bytes with its id, a folder's 190. */
const NODE_BYTES_GUESS = 256;

/**
 * A listing written as its nodes come, one at a time, to the bytes `encodeTree` writes for the
 * same nodes, so that a backup need not hold a folder's nodes all at once: the 3 GiB export's
 * thumbnails folder is 11,345 files, whose nodes were 4.1 MiB of the main thread's heap beside the
 * listing's 2.8 MB of text, at the highest moment of its first backup.
 *
 * Given the folder's `previous` listing, nothing is written while every node so far is that
 * listing's (`sameNode`): a folder found unchanged (`unchanged`) keeps the previous listing's id
 * without being encoded and hashed again, as every folder of an unchanged export does. At the first
 * node that differs, the previous listing's nodes before it are written in place of the ones that
 * matched them, which encode to the same bytes.
 *
 * Each node's text is made once and dropped at once: kept, the texts of those 11,345 thumbnails
 * were 4.6 MiB of strings that outlived the young generation. The text goes into one buffer sized
 * for the nodes expected, grown if need be, and handed over as it is (`take`): cut to size, it
 * was copied once more at the end.
 */
export class ListingEncoder {
  /** Made at the first node written: a folder found unchanged writes none. */
  private text: JsonBytes | null = null;
  private added = 0;
  private written = 0;
  /** Every node so far is the previous listing's, and none is written yet. */
  private matching: boolean;
  private largestFile: { name: string; chunks: number } | null = null;

  constructor(
    private readonly previous: readonly StoredTreeNode[] | null,
    private readonly expectedNodes: number,
  ) {
    this.matching = previous !== null;
  }

  /** Bytes written so far (none while the nodes match the previous listing). */
  get byteLength(): number {
    return this.text?.length ?? 0;
  }

  /** The file with the most chunk ids inline so far, for an error about a listing too large. */
  get largest(): { readonly name: string; readonly chunks: number } | null {
    return this.largestFile;
  }

  /** True when the nodes added are exactly the previous listing's. */
  get unchanged(): boolean {
    return this.matching && this.added === this.previous!.length;
  }

  add(node: ListingNode): void {
    const i = this.added++;
    if (node.type === 'file' && node.content !== undefined && node.content.length > (this.largestFile?.chunks ?? -1)) this.largestFile = { name: node.name, chunks: node.content.length };
    if (this.matching) {
      const previous = this.previous!;
      if (i < previous.length && sameNode(node, previous[i]!)) return;
      this.writePrevious(i);
    }
    this.write(node);
  }

  /** The listing's bytes, at the start of a buffer that moves with them. Nothing may be added after. */
  take(): MovableBytes {
    if (this.matching) this.writePrevious(this.added);
    const text = this.writer().ascii(']}').bytes();
    if (text.byteOffset !== 0 || !(text.buffer instanceof ArrayBuffer)) throw new Error('ListingEncoder: the text is not at the start of its own buffer');
    return { buffer: text.buffer, length: text.length };
  }

  /** The previous listing's first `n` nodes, in place of the matching ones added. */
  private writePrevious(n: number): void {
    this.matching = false;
    for (let k = 0; k < n; k++) this.write(this.previous![k]!);
  }

  private write(node: ListingNode): void {
    const w = this.writer();
    if (this.written++ > 0) w.ascii(',');
    const { before, ids, after } = nodeJson(node);
    w.utf8(before);
    ids?.writeJson(w);
    w.utf8(after);
  }

  private writer(): JsonBytes {
    if (this.text) return this.text;
    this.text = new JsonBytes(16 + this.expectedNodes * NODE_BYTES_GUESS);
    return this.text.ascii('{"nodes":[');
  }
}

/**
 * A node as the JSON text before its chunk ids, the ids, and the text after: keys in the node's
 * own order, undefined ones left out, as JSON.stringify does.
 */
function nodeJson(node: ListingNode): { before: string; ids: ChunkList | null; after: string } {
  const before: string[] = [];
  const after: string[] = [];
  let ids: ChunkList | null = null;
  let idsKey = 'content';
  const listed = node.type === 'file' && node.chunkLists !== undefined;
  for (const [key, value] of Object.entries(node)) {
    if (value === undefined || (listed && key === 'content')) continue;
    if ((key === 'content' || key === 'chunkLists') && value instanceof ChunkList && ids === null) {
      ids = value;
      idsKey = key;
    } else {
      (ids === null ? before : after).push(`${JSON.stringify(key)}:${JSON.stringify(value)}`);
    }
  }
  return {
    before: `{${before.join(',')}${ids === null ? '' : `${before.length > 0 ? ',' : ''}"${idsKey}":`}`,
    ids,
    after: `${after.length > 0 ? ',' : ''}${after.join(',')}}`,
  };
}

export function sortNodes<T extends { readonly name: string }>(nodes: T[]): T[] {
  return nodes.sort((a, b) => compareCodeUnits(a.name, b.name));
}

/** A node's keys as `encodeTree` writes them. */
function storedKeys(n: ListingNode): string[] {
  const keys = Object.keys(n);
  return n.type === 'file' && n.chunkLists !== undefined ? keys.filter((k) => k !== 'content') : keys;
}

/**
 * True when `x` would encode to the bytes stored for `y`: the same keys in the same order with
 * the same values (chunk lists compared byte by byte; a file with chunk lists by those, as
 * stored), so a listing that holds `y` also holds `x`.
 */
function sameNode(x: ListingNode, y: StoredTreeNode): boolean {
  const kx = storedKeys(x);
  const ky = storedKeys(y);
  if (kx.length !== ky.length) return false;
  for (let i = 0; i < kx.length; i++) {
    const k = kx[i]!;
    if (k !== ky[i]) return false;
    const vx: unknown = (x as unknown as Record<string, unknown>)[k];
    const vy: unknown = (y as unknown as Record<string, unknown>)[k];
    if (vx === vy) continue;
    if (!(vx instanceof ChunkList && vy instanceof ChunkList && vx.equals(vy))) return false;
  }
  return true;
}
