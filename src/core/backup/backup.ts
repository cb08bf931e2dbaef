/**
 * Backing up: scan, then store each file's chunks and each directory's tree,
 * reusing the previous snapshot's chunk lists for files whose size, times and
 * inode did not change, then write the index and, last, the snapshot. The
 * snapshot is read back and verified before the caller may apply retention. Sources in which
 * nothing changed since a snapshot of them (the scan's fingerprint says so) take that snapshot's
 * tree without a walk (`backupUnchanged`).
 */
import { closeSync, openSync, promises as fs, readSync } from 'node:fs';
import { hostname } from 'node:os';
import { chunkMethodFor, FileChunker, worthCompressing, type ChunkSink } from '../chunking/file-chunker.js';
import { gearTable } from '../chunking/fastcdc.js';
import { GearScanner } from '../chunking/gear-scan.js';
import { ID_BYTES } from '../crypto/ids.js';
import { compareCodeUnits } from '../code-unit-order.js';
import { ChatsafeError, throwIfCancelled } from '../errors.js';
import { CryptoPool } from '../jobs/crypto-pool.js';
import { DATA_LEVEL, FLAG_STORED, maybeCompressView } from '../repo/compression.js';
import { ProgressMeter, type ProgressListener } from '../jobs/progress.js';
import { collectAllGarbage } from '../jobs/v8-collector.js';
import type { BlobIndex, MasterIndex } from '../repo/master-index.js';
import { withLock } from '../repo/lock.js';
import type { Repository } from '../repo/repository.js';
import type { Snapshot, SnapshotRecord } from '../repo/snapshot.js';
import { ChunkList } from '../repo/chunk-list.js';
import { LIST_IDS, ListingEncoder, sortNodes, type FileNode, type ListingNode, type StoredFileNode, type StoredTree, type StoredTreeNode } from '../repo/tree.js';
import { MAX_TREE_BLOB_BYTES } from '../repo/blob.js';
import { APP_VERSION } from '../version.js';
import { BlobSaver, PACK_TARGET_BYTES } from './blob-saver.js';
import type { MovableBytes } from '../jobs/transferable.js';
import { DirectoryIds, type IdSink } from './directory-ids.js';
import { ListedIds, type ListedContent } from './listed-ids.js';
import { childOf, entryMeta, listFolder, scanSources, type EntryMeta, type ScannedEntry, type ScanResult } from './scan.js';
import { verifySnapshot, type CheckedReferences } from './verify.js';

/**
 * Files are read in 2 MiB blocks into three buffers in turn: a chunk (4 MiB at most) spans at most
 * three blocks, so the chunker keeps views of the earlier ones instead of copies. After each block
 * the reader waits for room at the saver; a block sends at most two or three batches of media (the
 * larger ones in 4 MiB buffers), where 4 MiB blocks sent four or five before the reader waited.
 */
const READ_BLOCK_BYTES = 2 * 1024 * 1024;
const READ_BLOCKS = 3;
/**
 * A folder of more entries than this is collected for once listed (see `TreeWalker.entry`): the 3 GiB
 * export's thumbnails folder (11,345 files) left its main heap 4-5 MiB larger for the rest of the run.
 */
const MANY_ENTRIES = 4096;
/** Files of unknown type are compressed only if their first 64 KiB shrink. */
const COMPRESS_PROBE_BYTES = 64 * 1024;

export interface BackupOptions {
  readonly sources: readonly string[];
  readonly signal?: AbortSignal;
  readonly onProgress?: ProgressListener;
  /** A chat catalog (SQLite file) built from the sources, stored with the snapshot. */
  readonly catalogPath?: string;
  readonly catalogSource?: string;
  readonly sourceKind?: string;
  readonly workers?: number;
  /**
   * Or a catalog still being built: called once the files are stored; resolves
   * to its path, or null when it could not be built (the snapshot then has none).
   */
  readonly pendingCatalog?: () => Promise<string | null>;
  /**
   * Settles when work running beside the backup on the same cores ends (that catalog being built):
   * until then each crypto worker is given one batch at a time (see BlobSaver).
   */
  readonly alongside?: Promise<unknown>;
  /** A scan of exactly these sources, made just before (so they are not walked twice). */
  readonly scan?: ScanResult;
}

export interface BackupResult {
  readonly id: string;
  readonly snapshot: Snapshot;
  readonly skipped: readonly string[];
  readonly reusedFiles: number;
}

/** Runs a backup under an exclusive repository lock. */
export async function backup(repo: Repository, opts: BackupOptions): Promise<BackupResult> {
  return withLock(repo, true, () => backupLocked(repo, opts));
}

export async function backupLocked(repo: Repository, opts: BackupOptions): Promise<BackupResult> {
  const started = Date.now();
  const meter = new ProgressMeter(opts.onProgress, 'scanning');
  meter.done();
  const scan = opts.scan ?? (await scanSources(opts.sources, opts.signal));
  const index = await repo.loadIndexForUpdate();
  const paths = scan.roots.map((r) => r.path);
  const parent = await findParent(repo, paths);
  const parentTree = parent ? await repo.loadStoredTree(index, parent.snapshot.tree).catch(() => null) : null;

  meter.setPhase('backing-up', { bytes: scan.bytes, files: scan.files });
  let alongsideDone = !opts.alongside;
  opts.alongside?.then(
    () => (alongsideDone = true),
    () => (alongsideDone = true),
  );
  const pool = new CryptoPool(repo.keys, opts.workers, { indexedIds: index.sharedIds(), packTarget: PACK_TARGET_BYTES });
  const saver = new BlobSaver(repo, index, pool, opts.alongside);
  const walker = new TreeWalker(repo, index, saver, gearTable(repo.keys.chunker), meter, opts.signal);
  try {
    const rootNodes: Entry[] = [];
    const rootIds = new DirectoryIds();
    for (const root of scan.roots) rootNodes.push(await walker.entry(root, root.path, parentTree?.nodes ?? null, rootIds));
    // Sources come in the order given; a listing is in name order.
    const root = walker.listing(rootIds, parentTree ? { id: parent!.snapshot.tree, tree: parentTree } : null, rootNodes.length);
    for (const e of sortNodes(rootNodes.filter((e) => e !== null))) root.add(e);
    const treeId = await walker.saveListing(root);
    let catalog: Snapshot['catalog'] = null;
    if (opts.catalogPath || opts.pendingCatalog) {
      // Waiting for a catalog still being built: nothing of storing is needed until it comes, and
      // this wait was most of a backup after the database grew (4-9 s of 11 at 3 GiB) at nearly
      // its highest memory, the idle crypto worker alone holding 30 MiB (its heap, pack buffers).
      // Storing the catalog starts a worker again (about 0.1 s).
      const waiting = !opts.catalogPath && !alongsideDone;
      if (waiting) await release(saver, pool, walker);
      const catalogPath = opts.catalogPath ?? (await opts.pendingCatalog!());
      if (catalogPath !== null) {
        // Released while waiting, every buffer went already, with a full collection.
        if (!waiting) {
          saver.releaseLargeBatchBuffers();
          collectAllGarbage();
        }
        catalog = await storeCatalog(walker, catalogPath);
      }
    }
    // Everything is stored: the workers' heaps and pack buffers go now, before the verification
    // opens the new trees again (a database's chunk list is tens of megabytes as JSON and objects).
    await release(saver, pool, walker);
    meter.done();

    const snapshot: Snapshot = {
      v: 1,
      time: new Date().toISOString(),
      hostname: hostname(),
      appVersion: APP_VERSION,
      paths,
      tree: treeId,
      parent: parent?.id ?? null,
      sourceKind: (catalog ? opts.sourceKind : undefined) ?? 'files',
      catalog,
      ...(catalog && opts.catalogSource ? { catalogSource: opts.catalogSource } : {}),
      summary: {
        files: scan.files,
        dirs: scan.dirs,
        bytes: walker.bytesSeen,
        newBytes: saver.stats.newBytes,
        storedBytes: saver.stats.storedBytes,
        durationMs: Date.now() - started,
      },
    };
    const id = await saveVerified(repo, snapshot, index, meter, opts.signal);
    repo.shareIndex(index);
    return { id, snapshot, skipped: scan.skipped, reusedFiles: walker.reusedFiles };
  } catch (e) {
    await saver.abandon();
    throw e;
  } finally {
    await pool.close();
  }
}

export interface UnchangedBackupOptions {
  readonly scan: ScanResult;
  /**
   * A snapshot of the same sources whose fingerprint (`catalogSource`) is this scan's, and what
   * `referencedPacks` found of it in the repository's index under this lock (the index the new
   * snapshot is verified against).
   */
  readonly same: SnapshotRecord;
  readonly checked: CheckedReferences;
  readonly signal?: AbortSignal;
  readonly onProgress?: ProgressListener;
}

/**
 * The backup of sources in which nothing changed since snapshot `same` was made (every entry's
 * path, type, permission bits, size, times and inode are as they were): its tree, catalog and
 * source kind are this backup's, and nothing is walked, read or stored. Walked again, every file
 * would be found unchanged: the walk was about a third of such a backup's time. The caller holds
 * the exclusive lock.
 */
export async function backupUnchanged(repo: Repository, opts: UnchangedBackupOptions): Promise<BackupResult> {
  const started = Date.now();
  const { scan, same } = opts;
  const meter = new ProgressMeter(opts.onProgress, 'backing-up', scan.bytes, scan.files);
  meter.add(scan.bytes, scan.files);
  meter.done();
  const { tree, sourceKind, catalog, catalogSource } = same.snapshot;
  const snapshot: Snapshot = {
    v: 1,
    time: new Date().toISOString(),
    hostname: hostname(),
    appVersion: APP_VERSION,
    paths: scan.roots.map((r) => r.path),
    tree,
    parent: same.id,
    sourceKind,
    catalog,
    ...(catalogSource === undefined ? {} : { catalogSource }),
    // The same sizes, or the fingerprints would differ.
    summary: { files: scan.files, dirs: scan.dirs, bytes: scan.bytes, newBytes: 0, storedBytes: 0, durationMs: Date.now() - started },
  };
  const id = await saveVerified(repo, snapshot, opts.checked.index, meter, opts.signal, opts.checked);
  return { id, snapshot, skipped: scan.skipped, reusedFiles: scan.files };
}

/** Writes the snapshot, last, then reads it back and verifies it against `index` (see `verifySnapshot`). */
async function saveVerified(repo: Repository, snapshot: Snapshot, index: BlobIndex, meter: ProgressMeter, signal: AbortSignal | undefined, checked?: CheckedReferences): Promise<string> {
  throwIfCancelled(signal);
  const id = await repo.saveSnapshot(snapshot);
  meter.setPhase('verifying');
  await verifySnapshot(repo, id, signal, index, checked);
  meter.done();
  return id;
}

/**
 * Writes out what is gathered and lets go of what storing held: the workers, this thread's read
 * blocks, and the batch and pack buffers kept for reuse (42 MiB in a first backup of the 3 GiB
 * export), with one full collection, since they were all promoted long ago and would otherwise
 * stay resident. Storing more afterwards starts them again.
 */
async function release(saver: BlobSaver, pool: CryptoPool, walker: TreeWalker): Promise<void> {
  await saver.flush();
  await pool.close();
  walker.finish();
  saver.releaseBuffers();
  collectAllGarbage();
}

async function storeCatalog(walker: TreeWalker, path: string): Promise<NonNullable<Snapshot['catalog']>> {
  const st = entryMeta(await fs.stat(path, { bigint: true }));
  const ids = new DirectoryIds();
  const [node] = await walker.settle([await walker.file('catalog', path, st, null, false, ids, false)], ids);
  // Never listed (`file` was told so): a snapshot's catalog keeps its ids inline.
  if (node?.type !== 'file' || node.content === undefined) throw new Error('storeCatalog: the catalog came back without its chunk ids');
  return { size: node.size, content: node.content };
}

/** The newest snapshot of exactly the same source paths: its files may be reused unread. */
async function findParent(repo: Repository, paths: readonly string[]): Promise<SnapshotRecord | null> {
  const key = pathsKey(paths);
  const all = await repo.listSnapshots();
  for (let i = all.length - 1; i >= 0; i--) {
    if (pathsKey(all[i]!.snapshot.paths) === key) return all[i]!;
  }
  return null;
}

/** Compares the source paths of two backups, whatever their order. */
export function pathsKey(paths: readonly string[]): string {
  return JSON.stringify([...paths].sort());
}

/**
 * A file read and sent, whose chunk ids are still being computed: they will be ids
 * `[first, first + count)` of its directory's `DirectoryIds`. One object per file, holding what
 * its node needs, until the directory ends.
 */
class PendingFile {
  constructor(
    readonly name: string,
    private readonly stat: EntryMeta,
    private readonly first: number,
    private readonly count: number,
  ) {}

  node(ids: Uint8Array): FileNode {
    return fileNode(this.name, this.stat, { content: ChunkList.view(ids, this.first, this.count) });
  }

  /** Whether its ids are among the first `known`. */
  idsIn(known: number): boolean {
    return this.first + this.count <= known;
  }
}

/** A large file read and sent, whose chunk lists are stored as its ids come (see ListedIds). */
class PendingListedFile {
  constructor(
    readonly name: string,
    private readonly stat: EntryMeta,
    private readonly listed: Promise<ListedContent>,
  ) {}

  async node(): Promise<FileNode | StoredFileNode> {
    return fileNode(this.name, this.stat, await this.listed);
  }
}

/** Whether a file's listing would name its chunk ids through chunk lists it has not got yet. */
function needsChunkLists(node: FileNode | StoredFileNode): node is FileNode & { chunkLists: undefined } {
  return node.content !== undefined && node.chunkLists === undefined && node.content.length > LIST_IDS;
}

/** A file's node, its chunk ids inline or in chunk lists: the keys in the order a stored node has them. */
function fileNode(name: string, st: EntryMeta, ids: { readonly content: ChunkList }): FileNode;
function fileNode(name: string, st: EntryMeta, ids: ListedContent): FileNode | StoredFileNode;
function fileNode(name: string, st: EntryMeta, ids: ListedContent): FileNode | StoredFileNode {
  const common = { name, type: 'file' as const, mode: st.mode, mtimeNs: st.mtimeNs, inode: st.ino, ctimeNs: st.ctimeNs, size: st.size };
  return 'content' in ids ? { ...common, content: ids.content } : { ...common, chunkLists: ids.chunkLists };
}

/**
 * The node named `name` in a stored listing, found by bisection: listings are sorted by code units
 * (FORMAT.md), and a map of a folder's names (11,345 in the 3 GiB export's thumbnails folder) cost
 * more than the listing's own array. A listing out of order only misses, and its files are read again.
 */
function nodeNamed(nodes: readonly StoredTreeNode[], name: string): StoredTreeNode | null {
  let lo = 0;
  let hi = nodes.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const order = compareCodeUnits(nodes[mid]!.name, name);
    if (order === 0) return nodes[mid]!;
    if (order < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  return null;
}

/** What a directory entry becomes: a node, a file whose ids are coming, or nothing (gone, or not a kind that is stored). */
type Entry = ListingNode | PendingFile | PendingListedFile | null;
/** An entry waiting for its listing. */
type Waiting = NonNullable<Entry>;

/**
 * A folder's listing as the walk goes: its entries come in name order, and each is made a node,
 * written (`ListingEncoder`) and let go as soon as its file's chunk ids have come back from the
 * workers, not when the folder ends. A file waits a few batches; a folder, a link or a file reused
 * unread waits only for those before it. Held to the folder's end, the entries of the 3 GiB
 * export's 11,345 thumbnails were 3.3 MiB of the main thread's heap, and of a folder of 50,000
 * files 15 MiB, all of it promoted.
 */
class FolderListing {
  private readonly text: ListingEncoder;
  /** Entries in name order; those before `next` are written, and let go. */
  private waiting: Array<Waiting | null> = [];
  private next = 0;
  private last: string | null = null;

  constructor(
    private readonly ids: DirectoryIds,
    private readonly previous: { id: string; tree: StoredTree } | null,
    expected: number,
    private readonly nodeOf: (e: Waiting, ids: Uint8Array) => ListingNode | Promise<ListingNode>,
    /** Every id, once all have come (`TreeWalker.idsOf`). */
    private readonly allIds: () => Promise<Uint8Array>,
  ) {
    this.text = new ListingEncoder(previous?.tree.nodes ?? null, expected);
  }

  add(e: Entry): void {
    if (e !== null) this.waiting.push(e);
  }

  /**
   * Writes the entries, from the first waiting, whose ids are all known. A promise only where a
   * node has to wait (a large file's chunk lists being stored), else at once.
   */
  writeReady(): Promise<void> | undefined {
    while (this.next < this.waiting.length) {
      const e = this.waiting[this.next]!;
      if (e instanceof PendingListedFile || (e instanceof PendingFile && !e.idsIn(this.ids.known))) break;
      const waiting = this.writeNext(this.ids.current);
      if (waiting) return waiting.then(() => this.writeReady());
    }
    // Let go of the written ones a block at a time, not one shift at a time.
    if (this.next > 256 && this.next * 2 > this.waiting.length) {
      this.waiting = this.waiting.slice(this.next);
      this.next = 0;
    }
  }

  /** Waits for every id and writes the entries left. */
  async end(): Promise<void> {
    const all = await this.allIds();
    while (this.next < this.waiting.length) await this.writeNext(all);
  }

  /** The previous listing's id, when the entries are exactly its nodes. */
  get unchangedFrom(): string | null {
    return this.previous && this.text.unchanged ? this.previous.id : null;
  }

  /** The listing's bytes, once ended. */
  take(): MovableBytes {
    const bytes = this.text.take();
    if (bytes.length > MAX_TREE_BLOB_BYTES) throw treeTooLarge(this.text);
    return bytes;
  }

  /** Writes the next entry, its file's ids in `ids`. */
  private writeNext(ids: Uint8Array): Promise<void> | undefined {
    const node = this.nodeOf(this.waiting[this.next]!, ids);
    this.waiting[this.next++] = null;
    if (node instanceof Promise) return node.then((n) => this.put(n));
    this.put(node);
  }

  private put(node: ListingNode): void {
    if (this.last !== null && compareCodeUnits(this.last, node.name) >= 0) throw new Error(`a listing's entries came out of name order: "${node.name}" after "${this.last}"`);
    this.last = node.name;
    this.text.add(node);
    if (this.text.byteLength > MAX_TREE_BLOB_BYTES) throw treeTooLarge(this.text);
  }
}

class TreeWalker {
  bytesSeen = 0;
  reusedFiles = 0;
  /**
   * The read blocks used in turn for every file (see READ_BLOCKS): the chunker keeps views of the
   * blocks an unfinished chunk spans instead of copying it. They are the gear scanner's blocks, in
   * its memory, so chunking reads them where they are. Made when a file is first read: a backup
   * of an unchanged export reads none.
   */
  private scanner: GearScanner | null = null;
  /** A folder of more than LIST_IDS chunks or MANY_ENTRIES entries has just been listed: its caller collects (see `entry`). */
  private largeFolderDone = false;

  constructor(
    private readonly repo: Repository,
    private readonly index: MasterIndex,
    private readonly saver: BlobSaver,
    private readonly gear: Uint32Array,
    private readonly meter: ProgressMeter,
    private readonly signal: AbortSignal | undefined,
  ) {}

  /** Its read blocks go, until the next file needs them. */
  finish(): void {
    this.scanner = null;
  }

  /** A folder's listing, to be given its entries in name order (`FolderListing`). */
  listing(ids: DirectoryIds, previous: { id: string; tree: StoredTree } | null, expected: number): FolderListing {
    return new FolderListing(ids, previous, expected, (e, all) => this.nodeOf(e, all, true), () => this.idsOf(ids));
  }

  /**
   * Stores a folder's listing once every entry is in, and returns its id: the previous listing's
   * when the folder is unchanged and that is still indexed.
   */
  async saveListing(listing: FolderListing): Promise<string> {
    await listing.end();
    const unchanged = listing.unchangedFrom;
    if (unchanged !== null && this.index.has(unchanged)) return unchanged;
    return this.saver.save('tree', listing.take(), true);
  }

  /** The nodes of `entries` once their ids are known: the catalog's, which is never listed. */
  async settle(entries: readonly Entry[], ids: DirectoryIds): Promise<ListingNode[]> {
    const all = await this.idsOf(ids);
    const nodes: ListingNode[] = [];
    for (const e of entries) if (e !== null) nodes.push(await this.nodeOf(e, all, false));
    return nodes;
  }

  /** Waits for the ids of a directory's files (sending what is gathered first, or it would wait forever). */
  private idsOf(ids: DirectoryIds): Promise<Uint8Array> {
    this.saver.dispatch();
    return ids.done();
  }

  /**
   * An entry's node. Files for a folder's listing (`inListing`) get chunk lists where they are
   * large; a snapshot's catalog keeps its ids inline (FORMAT.md §8).
   */
  private nodeOf(e: Waiting, all: Uint8Array, inListing: boolean): ListingNode | Promise<ListingNode> {
    // Without a promise where none is needed: a folder's thousands of entries each waited a few
    // turns of the event loop, 0.3 s of a backup of a folder of 50,000 files.
    if (e instanceof PendingListedFile) return e.node().then((node) => (inListing ? this.withChunkLists(node) : node));
    const node = e instanceof PendingFile ? e.node(all) : e;
    return inListing && node.type === 'file' && needsChunkLists(node) ? this.withChunkLists(node) : node;
  }

  /**
   * A file of more than LIST_IDS chunks, with its ids stored in chunk lists (tree blobs of ids,
   * FORMAT.md §8). A file reused unread keeps the lists it has; one listed inline by an older
   * version gets lists now.
   */
  private async withChunkLists(node: FileNode | StoredFileNode): Promise<FileNode | StoredFileNode> {
    if (!needsChunkLists(node)) return node;
    const n = node.content.length;
    const bytes = node.content.bytes();
    const lists: string[] = [];
    for (let first = 0; first < n; first += LIST_IDS) {
      // A copy: the list moves to a worker, and the ids are a view of the folder's array.
      const list = Buffer.from(bytes.subarray(first * ID_BYTES, Math.min(n, first + LIST_IDS) * ID_BYTES));
      // Distinct ids do not compress, and are stored as they are (FORMAT.md's 1/16 rule); a
      // database of mostly empty pages repeats one id, and its lists shrink.
      lists.push(this.saver.save('tree', list, true, true));
      // One list at a time: sent all at once, the 3 GiB export's database's twenty lists were 5 MiB
      // of copies in flight and 10 MiB of tree packs back, at the highest moment of the backup.
      await this.saver.room();
    }
    return { ...node, chunkLists: ChunkList.ofHex(lists) };
  }

  /**
   * Backs up `e`, found at `path`; a directory is listed again here, and its entries are resolved
   * when it ends, so small files share worker calls.
   */
  async entry(e: ScannedEntry, path: string, parentNodes: readonly StoredTreeNode[] | null, ids: DirectoryIds): Promise<Entry> {
    throwIfCancelled(this.signal);
    const previous = parentNodes ? nodeNamed(parentNodes, e.name) : null;
    switch (e.kind) {
      case 'file':
        return this.file(e.name, path, e.stat, previous, true, ids);
      case 'symlink': {
        let target: string;
        try {
          target = await fs.readlink(path);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
          throw readError(path, err);
        }
        return { name: e.name, type: 'symlink', mode: e.stat.mode, mtimeNs: e.stat.mtimeNs, target };
      }
      case 'dir': {
        const before = previous?.type === 'dir' ? await this.repo.loadStoredTree(this.index, previous.subtree).catch(() => null) : null;
        const childIds = new DirectoryIds();
        const children = listFolder(path);
        const listing = this.listing(childIds, before && previous?.type === 'dir' ? { id: previous.subtree, tree: before } : null, children.names);
        for (const child of children) {
          listing.add(await this.entry(child, childOf(path, child.name), before?.nodes ?? null, childIds));
          const writing = listing.writeReady();
          if (writing) await writing;
          if (this.largeFolderDone) {
            // Its ids (5 MiB for the 3 GiB export's database), or its thousands of entries and
            // nodes, were promoted long before, and would stay resident as garbage until V8's next
            // full collection.
            this.largeFolderDone = false;
            collectAllGarbage();
          }
        }
        const subtree = await this.saveListing(listing);
        this.largeFolderDone = childIds.length > LIST_IDS || children.names > MANY_ENTRIES;
        await this.saver.room();
        return { name: e.name, type: 'dir', mode: e.stat.mode, mtimeNs: e.stat.mtimeNs, subtree };
      }
      case 'other':
        return null;
    }
  }

  /**
   * The previous snapshot's node of an unchanged file, when every chunk is still indexed; else
   * null, and the file is read again. A file's chunk lists are read only now, once the file is
   * known unchanged, and one at a time: the node keeps its lists, not its ids (5 MiB for the 3 GiB
   * export's database, held until its folder ended).
   */
  private async reusable(previous: StoredFileNode): Promise<StoredFileNode | null> {
    if (previous.chunkLists === undefined) return this.index.hasAll(previous.content) ? previous : null;
    for (let i = 0; i < previous.chunkLists.length; i++) {
      // A chunk list no index has is refused by `readChunkList` (`chunkListLocation`), as damage.
      const ids = await this.repo.readChunkList(this.index, previous.chunkLists.hex(i)).catch(() => null);
      if (!ids || !this.index.hasAll(ids)) return null;
    }
    return previous;
  }

  /**
   * Reads and chunks a file, its chunks' ids going to `ids`; returns its node at once when
   * unchanged. A file for a listing (`listed`) known before it is read to take more than LIST_IDS
   * chunks (a database's pages) has its chunk lists stored as it is read, and its ids never go to
   * `ids` (see ListedIds).
   */
  async file(
    name: string,
    path: string,
    stat: EntryMeta,
    previous: StoredTreeNode | null,
    countProgress: boolean,
    ids: DirectoryIds,
    listed = true,
  ): Promise<FileNode | StoredFileNode | PendingFile | PendingListedFile> {
    const unchanged =
      previous?.type === 'file' && previous.size === stat.size && previous.mtimeNs === stat.mtimeNs && previous.ctimeNs === stat.ctimeNs && previous.inode === stat.ino
        ? await this.reusable(previous)
        : null;
    if (unchanged) {
      this.reusedFiles++;
      this.bytesSeen += unchanged.size;
      if (countProgress) this.meter.add(unchanged.size, 1);
      // The previous node itself where nothing of it changed (its mode changes its ctime too, but
      // not on every file system): a node per file, held until the folder ends, was a tenth of the
      // main thread's heap while the 3 GiB export's thumbnails folder was compared.
      if (unchanged.mode === stat.mode) return unchanged;
      return fileNode(name, stat, unchanged.chunkLists !== undefined ? { chunkLists: unchanged.chunkLists } : { content: unchanged.content });
    }

    // Plain blocking reads: a chat export is thousands of small media files, and a
    // round trip through the thread pool per open, read and close costs more than
    // the read itself. The loop still yields at every block (`room`), so progress,
    // worker answers and cancellation keep flowing.
    const scanner = (this.scanner ??= new GearScanner(this.gear, READ_BLOCK_BYTES, READ_BLOCKS));
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (err) {
      throw readError(path, err);
    }
    const first = ids.length;
    let size = 0;
    let listedIds: ListedIds | null = null;
    try {
      let chunker: FileChunker | null = null;
      let compress = true;
      let target: IdSink = ids;
      const sink: ChunkSink = (parts, length) => this.saver.add('data', parts, length, compress, target);
      for (let n = 0; ; n++) {
        throwIfCancelled(this.signal);
        const block = scanner.blocks[n % READ_BLOCKS]!;
        const bytesRead = readSync(fd, block, 0, READ_BLOCK_BYTES, null);
        if (bytesRead === 0) break;
        const data = block.subarray(0, bytesRead);
        if (!chunker) {
          chunker = new FileChunker(chunkMethodFor(data), this.gear, data, scanner);
          const chunks = chunker.chunksFor(stat.size);
          if (listed && chunks > LIST_IDS) target = listedIds = new ListedIds((list) => this.saver.save('tree', list, true, true));
          else ids.expect(chunks);
          compress = worthCompressing(data) && maybeCompressView(data.subarray(0, COMPRESS_PROBE_BYTES), DATA_LEVEL).flag !== FLAG_STORED;
        }
        chunker.feed(data, sink, READ_BLOCKS);
        size += bytesRead;
        if (countProgress) this.meter.add(bytesRead);
        await this.saver.room();
      }
      chunker?.end(sink);
    } catch (err) {
      if (err instanceof ChatsafeError) throw err;
      throw readError(path, err);
    } finally {
      closeSync(fd);
    }
    this.bytesSeen += size;
    if (countProgress) this.meter.add(0, 1);
    // The size read, not the scanned one: the file may have changed in between.
    const st = size === stat.size ? stat : { ...stat, size };
    return listedIds ? new PendingListedFile(name, st, listedIds.done()) : new PendingFile(name, st, first, ids.length - first);
  }
}

/** A folder whose listing (mostly its files' chunk ids) is more than a tree blob may hold. */
function treeTooLarge(listing: ListingEncoder): ChatsafeError {
  const largest = listing.largest;
  const which = largest ? ` Its largest file, ${largest.name}, is ${largest.chunks.toLocaleString('en-US')} chunks.` : '';
  return new ChatsafeError(
    'unsupported',
    `A folder's listing is more than the ${MAX_TREE_BLOB_BYTES / 1048576} MiB one listing may take.${which} No snapshot was made.`,
    'Files this large (a SQLite database of about 30 GiB or more) cannot be listed in a snapshot; back up the other files without it.',
  );
}

function readError(path: string, err: unknown): ChatsafeError {
  const code = (err as NodeJS.ErrnoException)?.code;
  return new ChatsafeError('io', `Cannot read ${path}: ${code ?? (err as Error)?.message}.`, code === 'EACCES' ? 'Check that you may read this file, then run the backup again.' : 'Run the backup again; if it keeps failing, check the disk.', { cause: err });
}
