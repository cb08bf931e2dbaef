/**
 * An open repository: storage, header, and the subkeys derived from the
 * master key. Everything that reads or writes repository objects goes
 * through here, so names are checked and objects authenticated in one place.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { blobId, ID_BYTES, shortHex } from '../crypto/ids.js';
import { hkdf, LABELS } from '../crypto/subkeys.js';
import { ChatsafeError, IntegrityError, WrongKeyError } from '../errors.js';
import { findSingleDigitTypo, describeTypo, RootKey } from '../keys/root-key.js';
import { createSlot, decodeSlot, encodeSlot, MASTER_KEY_BYTES, slotMatches, unwrapSlot, type KeySlot } from '../keys/slots.js';
import { orderedMap } from '../jobs/ordered-map.js';
import { objectPath, totalLength, type ByteRange, type RangeReader, type StorageBackend } from '../storage/backend.js';
import { scatterInto } from '../storage/common.js';
import { APP_VERSION } from '../version.js';
import { openBlob, type BlobType } from './blob.js';
import { decodeConfig, encodeConfig, newConfig, type RepoConfig } from './config.js';
import { IndexFileSchema, supersededIn, type BlobLocation, type IndexFile } from './index-file.js';
import { compareCodeUnits } from '../code-unit-order.js';
import { IndexCache } from './index-cache.js';
import { useRowStoreDir } from './row-store.js';
import { MasterIndex, type BlobIndex } from './master-index.js';
import { Malformed, type JsonValidator } from './json-shape.js';
import type { JsonDocument } from './json-bytes.js';
import { checkNamed, META_LABELS, openJson, sealJson, sealJsonDocument, type MetaLabel } from './sealed-json.js';
import { SnapshotSchema, type Snapshot, type SnapshotRecord } from './snapshot.js';
import { LIST_IDS, treeFromBytes, type FileNode, type StoredFileNode, type StoredTree, type Tree, type TreeNode } from './tree.js';
import { ChunkList } from './chunk-list.js';
import { ParsedCache } from './parsed-cache.js';
import { collectAllGarbage } from '../jobs/v8-collector.js';
import { YoungGarbage } from '../jobs/young-garbage.js';

/** Range reads of packs (`Repository.packReader`), and reads of one range into several parts, which every backend serves. */
export interface PackReader extends RangeReader {
  readParts(pack: string, offset: number, parts: readonly Buffer[]): Promise<number>;
}

export interface RepoKeys {
  readonly data: Buffer;
  readonly meta: Buffer;
  readonly blobId: Buffer;
  readonly chunker: Buffer;
}

/** How the user proves they may open the repository. */
export type Credential =
  | { readonly kind: 'key'; readonly key: RootKey; /** what they typed, for the one-digit suggestion */ readonly typed?: string }
  | { readonly kind: 'password'; readonly password: string };

/** Turns a password slot into K by asking the vault; provided by the vault client. */
export type VaultUnlocker = (slot: Extract<KeySlot, { kind: 'password' }>, password: string) => Promise<RootKey>;

export interface RepoHeader {
  readonly config: RepoConfig;
  readonly configHash: Buffer;
  readonly slots: KeySlot[];
  /**
   * Key slots that could not be read (damaged, or put there by something else). They are left
   * out, so one bad slot does not lock out the holders of the others; `check` reports them and
   * `key remove` deletes them.
   */
  readonly unreadableSlots: readonly UnreadableSlot[];
}

export interface UnreadableSlot {
  readonly id: string;
  /** What is wrong with it, for messages (`keys/<id>: <problem>`). */
  readonly problem: string;
}

const HEADER_FROM_COPY = 'Restore the header from another copy of the repository; without it the key slots cannot be opened.';

async function hasKeySlots(backend: StorageBackend): Promise<boolean> {
  for await (const _ of backend.list('keys')) {
    void _;
    return true;
  }
  return false;
}

export async function readHeader(backend: StorageBackend): Promise<RepoHeader> {
  let bytes: Buffer;
  try {
    bytes = await backend.read('config', 'config');
  } catch (e) {
    if (e instanceof ChatsafeError && e.kind === 'not-found') {
      if (await hasKeySlots(backend)) throw new IntegrityError('config', 'the repository header is missing, but the rest of a repository is there (deleted or damaged)', HEADER_FROM_COPY);
      throw new ChatsafeError('not-found', `No Chatsafe repository at ${backend.location}.`, 'Check the path, or create one with `chatsafe init --repo PATH`.');
    }
    throw e;
  }
  let decoded: ReturnType<typeof decodeConfig>;
  try {
    decoded = decodeConfig(bytes);
  } catch (e) {
    // A header that does not name the format, beside key slots, is a damaged header, not a folder of something else.
    if (e instanceof ChatsafeError && e.kind === 'not-found' && (await hasKeySlots(backend))) {
      throw new IntegrityError('config', 'the repository header does not name the Chatsafe format, but the rest of a repository is there (damaged)', HEADER_FROM_COPY);
    }
    throw e;
  }
  const { config, hash } = decoded;
  const slots: KeySlot[] = [];
  const unreadableSlots: UnreadableSlot[] = [];
  for await (const info of backend.list('keys')) {
    try {
      slots.push(decodeSlot(info.name, await backend.read('keys', info.name)));
    } catch (e) {
      if (!(e instanceof IntegrityError)) throw e;
      unreadableSlots.push({ id: info.name, problem: e.message.slice(e.object.length + 2) });
    }
  }
  slots.sort((a, b) => compareCodeUnits(a.created, b.created));
  return { config, configHash: hash, slots, unreadableSlots };
}

export class Repository {
  private constructor(
    readonly backend: StorageBackend,
    readonly config: RepoConfig,
    readonly configHash: Buffer,
    private readonly masterKey: Buffer,
    readonly keys: RepoKeys,
  ) {}

  private static fromMasterKey(backend: StorageBackend, config: RepoConfig, configHash: Buffer, mk: Buffer): Repository {
    const salt = Buffer.from(config.id, 'hex');
    return new Repository(backend, config, configHash, mk, {
      data: hkdf(mk, salt, LABELS.data),
      meta: hkdf(mk, salt, LABELS.meta),
      blobId: hkdf(mk, salt, LABELS.blobId),
      chunker: hkdf(mk, salt, LABELS.chunker),
    });
  }

  /** Creates a repository with one slot for K (a key slot, or a password slot if `vault` is given). */
  static async init(backend: StorageBackend, k: RootKey, vault?: { url: string; accountId: string }): Promise<Repository> {
    await backend.create();
    const config = newConfig(APP_VERSION);
    const configBytes = encodeConfig(config);
    const { hash } = decodeConfig(configBytes);
    const mk = randomBytes(MASTER_KEY_BYTES);
    const slot = createSlot(k, mk, hash, vault ? { kind: 'password', vault } : { kind: 'key' });
    // The slot goes first: a header without any slot would be a repository nobody can open.
    await backend.write('keys', slot.id, encodeSlot(slot));
    await backend.write('config', 'config', configBytes);
    return Repository.fromMasterKey(backend, config, hash, mk);
  }

  static async open(backend: StorageBackend, credential: Credential, vaultUnlocker?: VaultUnlocker): Promise<Repository> {
    const header = await readHeader(backend);
    const mk = await unlockMasterKey(header, credential, vaultUnlocker);
    return Repository.fromMasterKey(backend, header.config, header.configHash, mk);
  }

  /** The master key, for a bundle of one snapshot (which carries copies of the slots). */
  masterKeyForBundle(): Buffer {
    return Buffer.from(this.masterKey);
  }

  /** Adds a slot for another root key; no data is rewritten. */
  async addSlot(k: RootKey, vault?: { url: string; accountId: string }): Promise<KeySlot> {
    const slot = createSlot(k, this.masterKey, this.configHash, vault ? { kind: 'password', vault } : { kind: 'key' });
    await this.backend.write('keys', slot.id, encodeSlot(slot));
    return slot;
  }

  async listSlots(): Promise<KeySlot[]> {
    return (await readHeader(this.backend)).slots;
  }

  /**
   * Removes a slot; refuses to remove the last readable one, which would lock everyone out. An
   * unreadable slot (`RepoHeader.unreadableSlots`) opens nothing, so it can always go.
   */
  async removeSlot(slotIdPrefix: string): Promise<{ id: string; kind: KeySlot['kind'] | 'unreadable' }> {
    const { slots, unreadableSlots } = await readHeader(this.backend);
    const prefix = slotIdPrefix.toLowerCase();
    const matches = [...slots.map((s) => ({ id: s.id, kind: s.kind })), ...unreadableSlots.map((u) => ({ id: u.id, kind: 'unreadable' as const }))].filter((s) => s.id.startsWith(prefix));
    if (matches.length !== 1) {
      throw new ChatsafeError('not-found', matches.length === 0 ? `No key slot ${slotIdPrefix}.` : `Key slot prefix ${slotIdPrefix} is ambiguous.`, 'Run `chatsafe key list` to see the slots.');
    }
    const match = matches[0]!;
    if (match.kind !== 'unreadable' && slots.length === 1) {
      throw new ChatsafeError('conflict', 'That is the only key slot; removing it would make the repository unreadable forever.', 'Add another key first with `chatsafe key add`.');
    }
    await this.backend.remove('keys', match.id);
    return match;
  }

  // ---- metadata objects ----

  saveJson(kind: 'index' | 'snapshots', label: MetaLabel, value: unknown): Promise<string> {
    return this.writeSealed(kind, sealJson(this.keys.meta, label, value));
  }

  /** `saveJson` for a large document written in pieces (an index file, see JsonBytes). */
  saveJsonDocument(kind: 'index' | 'snapshots', label: MetaLabel, doc: JsonDocument): Promise<string> {
    return this.writeSealed(kind, sealJsonDocument(this.keys.meta, label, doc));
  }

  /**
   * Writes a sealed metadata object under its name. Not an async function: one keeps its
   * arguments until it returns, and an index file's sealed bytes would be held through the write
   * and its fsync twice over.
   */
  private writeSealed(kind: 'index' | 'snapshots', { bytes, name }: { bytes: Buffer | readonly Buffer[]; name: string }): Promise<string> {
    return this.backend.write(kind, name, bytes).then(() => name);
  }

  async loadJson<T>(kind: 'index' | 'snapshots', name: string, label: MetaLabel, schema: JsonValidator<T>): Promise<T> {
    const bytes = await this.backend.read(kind, name);
    return openJson(this.keys.meta, label, bytes, `${kind}/${name}`, schema, name);
  }

  /**
   * The merged index, as the listing of index files says it is now. Files
   * another file supersedes (left by an interrupted prune, or put back by
   * someone) are not used: the superseding file holds everything still
   * needed. Index files are named by the hash of their contents and never
   * change, so while the listing names the same files as last time, the
   * index built then is still right and is shared (a backup's retention, the
   * app's browsing). `check` reads the files from storage itself.
   */
  async loadIndex(): Promise<BlobIndex> {
    const names = await this.indexNames();
    if (this.sharedIndex?.builtFrom(names)) return this.sharedIndex;
    this.sharedIndex = null; // not kept alive while its replacement is built
    this.sharedIndex = await this.buildIndex(names);
    return this.sharedIndex;
  }

  /** A private copy of the index, for a backup that adds its packs to it. */
  async loadIndexForUpdate(): Promise<MasterIndex> {
    const names = await this.indexNames();
    if (this.sharedIndex?.builtFrom(names)) return this.sharedIndex.clone();
    return this.buildIndex(names);
  }

  /**
   * After a backup: its index, which from now on is exactly what the index
   * files in storage say (every pack it added is in an index file it wrote).
   */
  shareIndex(index: MasterIndex): void {
    this.sharedIndex = index;
    this.indexCache?.save(index);
  }

  /**
   * After prune: the shared index (the one prune read, as every reader shares it) is changed in
   * place to what the index files now in storage say (`MasterIndex.retain`, then `edit` adds what
   * prune wrote), and kept as the local index cache. Without a shared index there is nothing to
   * change: the next run builds one from the files.
   */
  updateSharedIndex(edit: (index: MasterIndex) => void): void {
    if (!this.sharedIndex) return;
    edit(this.sharedIndex);
    this.indexCache?.save(this.sharedIndex);
  }

  /**
   * Lets go of the shared index, for a run that looks up no more blobs (a restore, once it resolved
   * where each chunk lies); the next `loadIndex` builds it again, from the local copy if there is one.
   */
  forgetIndex(): void {
    this.sharedIndex = null;
  }

  /**
   * Keeps a sealed copy of the merged index in `dir` between runs (see `index-cache.ts`); null keeps
   * none. The index's rows are kept in a temporary file there while it is in use (`row-store.ts`).
   */
  useIndexCache(dir: string | null): void {
    this.indexCache = dir === null ? null : new IndexCache(dir, this.config.id, this.keys.meta);
    if (dir !== null) useRowStoreDir(dir);
  }

  /** The folder of this repository's local caches (`useIndexCache`), or null when it keeps none. */
  get localCacheDir(): string | null {
    return this.indexCache?.dir ?? null;
  }

  private async indexNames(): Promise<string[]> {
    const names: string[] = [];
    for await (const info of this.backend.list('index')) names.push(info.name);
    return names;
  }

  private async buildIndex(names: readonly string[]): Promise<MasterIndex> {
    const cached = this.indexCache?.load(names);
    if (cached) {
      // The files are still read and hashed (cheap next to decrypting, parsing and checking them),
      // so an index file damaged or replaced in storage is named here as it would be without the cache.
      for await (const _ of orderedMap(names, INDEX_READS_AT_ONCE, async (name) => checkNamed(await this.backend.read('index', name), name, `index/${name}`))) void _;
      return cached;
    }
    const files = new Map<string, IndexFile>();
    for await (const [name, file] of orderedMap(names, INDEX_READS_AT_ONCE, async (name) => [name, await this.loadJson('index', name, META_LABELS.index, IndexFileSchema)] as const)) {
      files.set(name, file);
    }
    const superseded = supersededIn(files);
    const index = new MasterIndex();
    for (const name of [...files.keys()].sort()) if (!superseded.has(name)) index.addFile(name, files.get(name)!);
    if (superseded.size === 0) this.indexCache?.save(index);
    return index;
  }

  /**
   * A pack, or a range of it (`into` as in `StorageBackend.read`); a pack the
   * index lists but storage lacks is an integrity failure, not a usage one.
   */
  async readPack(pack: string, range?: ByteRange, into?: Buffer): Promise<Buffer> {
    return checkedPackRead(pack, range, () => this.backend.read('data', pack, range, into));
  }

  /**
   * Range reads of packs for one operation (a restore), through the
   * backend's range reader when it has one: a chat database restored after
   * it grew is read in thousands of pieces that alternate between a few packs.
   */
  packReader(): PackReader {
    const reader = this.backend.rangeReader?.('data');
    const read = (pack: string, range: ByteRange, into?: Buffer) => checkedPackRead(pack, range, () => (reader ? reader.read(pack, range, into) : this.backend.read('data', pack, range, into)));
    const backend = this.backend;
    const intoParts = reader?.readParts?.bind(reader) ?? (backend.readParts ? (pack: string, offset: number, parts: readonly Buffer[]) => backend.readParts!('data', pack, offset, parts) : null);
    return {
      read,
      readParts: async (pack, offset, parts) => {
        const length = totalLength(parts);
        // A backend that reads only whole ranges: one request still, copied out (`read` checks its length).
        if (!intoParts) return scatterInto(await read(pack, { offset, length }), parts);
        const got = await packRead(pack, () => intoParts(pack, offset, parts));
        if (got !== length) throw packTruncated(pack);
        return got;
      },
      close: async () => reader?.close(),
    };
  }

  async listSnapshots(): Promise<SnapshotRecord[]> {
    const out: SnapshotRecord[] = [];
    for await (const info of this.backend.list('snapshots')) out.push({ id: info.name, snapshot: await this.loadSnapshot(info.name) });
    return out.sort((a, b) => compareCodeUnits(a.snapshot.time, b.snapshot.time) || compareCodeUnits(a.id, b.id));
  }

  /**
   * A snapshot, read once per run: a snapshot is named by the hash of its
   * bytes (checked when it is read) and never changes, so a copy parsed
   * earlier is the same snapshot. An unchanged backup read the one snapshot
   * it followed six times (the catalog check, the parent, the verification,
   * forget, the retention's check of what was kept), 13-30 ms each for the
   * 1 GiB export, whose catalog's chunk list makes the snapshot 1.1 MB of JSON.
   * `fresh` reads it from storage whatever is kept, as a verification must;
   * what it read is kept after. The copies kept are frozen, since callers
   * share them.
   */
  async loadSnapshot(id: string, fresh = false): Promise<Snapshot> {
    const kept = fresh ? undefined : this.snapshotCache.get(id);
    if (kept) return kept;
    const snapshot = freezeSnapshot(await this.loadJson('snapshots', id, META_LABELS.snapshot, SnapshotSchema));
    this.snapshotCache.set(id, snapshot, snapshotBytes(snapshot));
    return snapshot;
  }

  /** `latest`, or a unique prefix of a snapshot id. */
  async findSnapshot(ref: string): Promise<SnapshotRecord> {
    const all = await this.listSnapshots();
    if (all.length === 0) throw new ChatsafeError('not-found', 'The repository has no snapshots yet.', 'Make one with `chatsafe backup`.');
    if (ref === 'latest') return all[all.length - 1]!;
    if (!/^[0-9a-f]{4,64}$/i.test(ref)) throw new ChatsafeError('usage', `"${ref}" is not a snapshot id.`, 'Use `latest` or an id from `chatsafe snapshots`.');
    const matches = all.filter((s) => s.id.startsWith(ref.toLowerCase()));
    if (matches.length !== 1) {
      throw new ChatsafeError('not-found', matches.length === 0 ? `No snapshot ${ref}.` : `Snapshot id ${ref} is ambiguous.`, 'Run `chatsafe snapshots` to see the ids.');
    }
    return matches[0]!;
  }

  async saveSnapshot(snapshot: Snapshot): Promise<string> {
    return this.saveJson('snapshots', META_LABELS.snapshot, snapshot);
  }

  // ---- blobs ----

  async readBlob(index: BlobIndex, type: BlobType, idHex: string): Promise<Buffer> {
    const loc = index.get(idHex);
    if (!loc || loc.type !== type) throw new IntegrityError(`${type} blob ${idHex.slice(0, 16)}`, 'is missing from the index', 'The repository is incomplete. Run `chatsafe check` to see what is affected.');
    return this.readBlobAt(loc, idHex);
  }

  async readBlobAt(loc: BlobLocation, idHex: string): Promise<Buffer> {
    const sealed = await this.readPack(loc.pack, { offset: loc.offset, length: loc.length });
    const object = objectPath('data', loc.pack);
    return openBlob(this.keys.data, loc.type, Buffer.from(idHex, 'hex'), sealed, loc.rawLength, object);
  }

  /**
   * Trees are read many times in one run (the parent snapshot's, then the
   * verification, then prune), and on cloud storage each read is a request:
   * a tree pack is fetched whole the first time and kept, and parsed trees too
   * (`ParsedCache`). A large tree (a chat database's listing) is read alone, one
   * request either way, rather than keeping its pack too.
   */
  private readonly treeCache = new ParsedCache<StoredTree>(TREE_CACHE_BYTES, TREE_CACHE_ENTRIES);
  /** Parsed snapshots (`loadSnapshot`), bounded like the trees. */
  private readonly snapshotCache = new ParsedCache<Snapshot>(SNAPSHOT_CACHE_BYTES, SNAPSHOT_CACHE_ENTRIES);
  private sharedIndex: MasterIndex | null = null;
  private indexCache: IndexCache | null = null;
  private readonly treePacks = new Map<string, Promise<Buffer>>();
  private treePackBytes = 0;

  private async readTreeBlob(index: BlobIndex, idHex: string): Promise<Buffer> {
    const loc = index.get(idHex);
    if (!loc || loc.type !== 'tree') return this.readBlob(index, 'tree', idHex);
    const packSize = index.packs.get(loc.pack)?.size ?? 0;
    if (loc.length > LARGE_TREE_BYTES || packSize > TREE_PACK_CACHE_BYTES / 4 || this.treePackBytes + packSize > TREE_PACK_CACHE_BYTES) return this.readBlobAt(loc, idHex);
    let pack = this.treePacks.get(loc.pack);
    if (!pack) {
      this.treePackBytes += packSize;
      pack = this.readPack(loc.pack, { offset: 0, length: packSize });
      this.treePacks.set(loc.pack, pack);
      pack.catch(() => this.treePacks.delete(loc.pack));
    }
    const bytes = await pack;
    const object = objectPath('data', loc.pack);
    return openBlob(this.keys.data, 'tree', Buffer.from(idHex, 'hex'), bytes.subarray(loc.offset, loc.offset + loc.length), loc.rawLength, object);
  }

  /**
   * Lets go of the trees and tree packs kept for reuse, for a run that reads no more trees (a
   * restore, once its plan is made: 3.7 MiB of tree packs for the 3 GiB export, and its parsed
   * trees, held to the end).
   */
  forgetTreeReads(): void {
    this.treeCache.clear();
    this.treePacks.clear();
    this.treePackBytes = 0;
  }

  /**
   * A tree as stored, authenticated and parsed: a large file has its `chunkLists`, not its chunk
   * ids (`withContent` reads them). A backup compares its folders with the parent's in this form,
   * so a database that changed is never read back as 157,000 ids only to be replaced.
   */
  async loadStoredTree(index: BlobIndex, idHex: string): Promise<StoredTree> {
    const cached = this.treeCache.get(idHex);
    if (cached) return cached;
    const bytes = await this.readTreeBlob(index, idHex);
    const tree = this.parseTree(idHex, bytes);
    this.treeCache.set(idHex, tree, bytes.length);
    // Parsing left the tree's text and the parser's scraps behind, about as much again as the tree
    // itself, in the old generation where only a full collection frees them.
    if (bytes.length >= COLLECT_AFTER_TREE_BYTES) collectAllGarbage();
    return tree;
  }

  /**
   * A tree as stored, authenticated and parsed but not kept: for a pass ahead of the one that keeps
   * the trees (a snapshot measured before a restore plans it). Kept, every parsed tree was held from
   * the measure through the plan's reads of the chunk lists: three alternating restores of the 3 GiB
   * export each peaked at 133.7-142.9 MiB this way, at 139.7-147.0 with the trees kept.
   */
  async readStoredTree(index: BlobIndex, idHex: string): Promise<StoredTree> {
    return this.treeCache.get(idHex) ?? this.parseTree(idHex, await this.readTreeBlob(index, idHex));
  }

  /** A tree with every file's chunk ids, those in chunk lists read in (not kept: 5 MiB for the 3 GiB export's database). */
  async loadTree(index: BlobIndex, idHex: string): Promise<Tree> {
    const stored = await this.loadStoredTree(index, idHex);
    const nodes: TreeNode[] = [];
    for (const node of stored.nodes) nodes.push(node.type === 'file' && node.chunkLists !== undefined ? await this.withContent(index, node) : (node as TreeNode));
    return { nodes };
  }

  /** A stored file node with its chunk ids: its own, or read from its chunk lists. */
  async withContent(index: BlobIndex, node: StoredFileNode): Promise<FileNode> {
    if (node.chunkLists === undefined) return node;
    const content = await this.readChunkLists(index, node.chunkLists);
    // The same keys in the same order as a node made by a backup, `content` before `chunkLists`.
    const resolved: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(node)) {
      if (key === 'chunkLists') resolved.content = content;
      resolved[key] = value;
    }
    return resolved as unknown as FileNode;
  }

  /**
   * A file's chunk ids from its chunk lists, into one array sized from the index (each list is
   * authenticated as it is read, and must be what the index says), so a database's 157,000 ids
   * are held once, not as pieces and then joined.
   */
  private async readChunkLists(index: BlobIndex, lists: ChunkList): Promise<ChunkList> {
    const where = Array.from({ length: lists.length }, (_, i) => chunkListLocation(index, lists.hex(i)));
    const ids = new Uint8Array(where.reduce((n, loc) => n + loc.rawLength, 0));
    let at = 0;
    for (let i = 0; i < lists.length; i++) {
      this.listGarbage.add(where[i]!.length);
      const plain = await this.readBlobAt(where[i]!, lists.hex(i));
      ids.set(plain, at);
      at += plain.length;
    }
    return ChunkList.ofBytes(ids);
  }

  /**
   * One chunk list's ids, authenticated: what a pass over every chunk of a snapshot reads a list at
   * a time. Lists are read on their own (a request for every 32 MiB of a database, as a large tree
   * is read), here and above: through the tree packs kept for reuse, a restore of the 3 GiB export
   * held its database's lists twice, sealed in those packs and as the ids.
   */
  async readChunkList(index: BlobIndex, idHex: string): Promise<ChunkList> {
    const loc = chunkListLocation(index, idHex);
    this.listGarbage.add(loc.length);
    return ChunkList.ofBytes(await this.readBlobAt(loc, idHex));
  }

  /**
   * A minor collection every few chunk lists read (each read leaves its sealed and its opened copy,
   * 512 KiB, outside the heap), taken before the next list is read, once the caller has let go of
   * the last: V8 let them pile up to 30-40 MiB while a backup of a 6 GiB export's 39 lists compared
   * its database and the verification read them again.
   */
  private readonly listGarbage = new YoungGarbage(CHUNK_LIST_COLLECT_BYTES);

  private parseTree(idHex: string, bytes: Buffer): StoredTree {
    // A tree's id is the keyed hash of its bytes, checked here so that no tree can name itself or a
    // folder above it as a subtree (that would take a fixed point of the hash): a walk down a
    // snapshot's trees always ends. Opening the blob alone proves only that a key holder sealed it.
    const id = Buffer.from(idHex, 'hex');
    const actual = blobId(this.keys.blobId, bytes);
    if (id.length !== actual.length || !timingSafeEqual(id, actual)) throw new IntegrityError(`tree ${idHex.slice(0, 16)}`, 'content does not match its id');
    try {
      return treeFromBytes(bytes);
    } catch (e) {
      if (e instanceof SyntaxError) throw new IntegrityError(`tree ${idHex.slice(0, 16)}`, 'is not valid JSON');
      if (e instanceof Malformed) throw new IntegrityError(`tree ${idHex.slice(0, 16)}`, `is malformed (${e.path.join('.')}: ${e.message})`);
      throw e;
    }
  }
}

/** MK from a header's slots (a repository's, or a bundle's copy of them). */
export async function unlockMasterKey(header: RepoHeader, credential: Credential, vaultUnlocker?: VaultUnlocker): Promise<Buffer> {
  if (header.slots.length === 0) {
    const unreadable = header.unreadableSlots[0];
    if (unreadable) throw new IntegrityError(`keys/${unreadable.id}`, `${unreadable.problem}, and no other key slot can be read`, 'Nobody can open this backup without a readable key slot; put the slot back from another copy of the repository.');
    throw new IntegrityError('keys', 'there are no key slots left', 'Nobody can open this backup any more; restore from another copy.');
  }
  try {
    return await (credential.kind === 'key' ? unlockWithKey(header, credential.key, credential.typed) : unlockWithPassword(header, credential.password, vaultUnlocker));
  } catch (e) {
    if (!(e instanceof WrongKeyError) || header.unreadableSlots.length === 0) throw e;
    // The key may belong to the slot that cannot be read: say so, or the user doubts a right key.
    const names = header.unreadableSlots.map((u) => `keys/${u.id}`).join(', ');
    const hint = `${e.hint ?? ''} Note that ${names} could not be read (damaged); if your key or password was for that slot, put it back from another copy of the repository.`;
    throw new WrongKeyError(e.message, hint.trim(), { ...(e.suggestion ? { suggestion: e.suggestion } : {}), ...(e.attemptsLeft !== undefined ? { attemptsLeft: e.attemptsLeft } : {}) });
  }
}

function unlockWithKey(header: RepoHeader, key: RootKey, typed?: string): Buffer {
  const keySlots = header.slots;
  for (const slot of keySlots) {
    if (slotMatches(slot, key)) return unwrapSlot(slot, key, header.configHash);
  }
  const suggestion = typed !== undefined ? findSingleDigitTypo(typed, (candidate) => keySlots.some((s) => slotMatches(s, candidate))) : null;
  if (suggestion) {
    throw new WrongKeyError(`That key does not open this repository, but it is one digit away from one that does: ${describeTypo(suggestion)}`, 'Check that digit against the key you wrote down and try again.', { suggestion });
  }
  throw new WrongKeyError('That key does not open this repository.', 'Check the 64-digit key you kept when the backup was made (or the key file). Every backup has its own key.');
}

async function unlockWithPassword(header: RepoHeader, password: string, vaultUnlocker?: VaultUnlocker): Promise<Buffer> {
  const passwordSlots = header.slots.filter((s): s is Extract<KeySlot, { kind: 'password' }> => s.kind === 'password');
  if (passwordSlots.length === 0) {
    throw new WrongKeyError('This repository is protected by a 64-digit key, not a password.', 'Use --key-file or CHATSAFE_KEY with the 64-digit key.');
  }
  if (!vaultUnlocker) throw new ChatsafeError('unsupported', 'Password mode needs the key vault client, which is not available here.');
  let lastError: unknown;
  for (const slot of passwordSlots) {
    try {
      const k = await vaultUnlocker(slot, password);
      if (slotMatches(slot, k)) return unwrapSlot(slot, k, header.configHash);
      throw new IntegrityError(`keys/${slot.id}`, 'the vault returned a key that does not belong to this repository');
    } catch (e) {
      lastError = e;
    }
  }
  throw lastError;
}

export const BLOB_ID_BYTES = ID_BYTES;
const TREE_PACK_CACHE_BYTES = 32 * 1024 * 1024;
/** Chunk lists read between two minor collections (`listGarbage`): eight lists of 256 KiB. */
const CHUNK_LIST_COLLECT_BYTES = 2 * 1024 * 1024;
const TREE_CACHE_ENTRIES = 20_000;
/** Parsed trees kept, as stored, in plaintext bytes: a large file's chunk ids are in its chunk lists, read when needed and not kept. */
const TREE_CACHE_BYTES = 24 * 1024 * 1024;
/**
 * A tree this large (plaintext; a folder of about 4,000 files) is followed by a full collection once
 * parsed. The 3 GiB export's thumbnails folder, 11,345 files, is 2.8 MB, which parses into 3.4 MiB
 * of nodes and 4.7 MiB of garbage: in a backup after its database grew 1%, that parse was the run's
 * highest moment. Seven alternating such backups each: 140-152 MiB (median 149) against 142-154
 * (median 151), six of the seven lower, in the same time.
 */
const COLLECT_AFTER_TREE_BYTES = 1024 * 1024;
/** A sealed tree this large is read on its own, without its pack. */
const LARGE_TREE_BYTES = 1024 * 1024;
/** Index files read in parallel (cloud storage answers each read slowly). */
const INDEX_READS_AT_ONCE = 8;

/** Snapshots kept parsed, in count and in bytes (a catalog's chunk ids, 32 bytes each, are most of a snapshot's size). */
const SNAPSHOT_CACHE_ENTRIES = 64;
const SNAPSHOT_CACHE_BYTES = 8 * 1024 * 1024;

/** What a parsed snapshot takes, roughly: its catalog's chunk ids and a little for the rest. */
function snapshotBytes(s: Snapshot): number {
  return 1024 + (s.catalog?.content.length ?? 0) * ID_BYTES;
}

/** A snapshot shared by the callers of `loadSnapshot`, made read-only so none can change it for the others. */
function freezeSnapshot(s: Snapshot): Snapshot {
  Object.freeze(s.paths);
  Object.freeze(s.summary);
  if (s.catalog) Object.freeze(s.catalog);
  return Object.freeze(s);
}

/** Where a chunk list is, checked to be a tree blob of 1 to LIST_IDS ids before it is read. */
function chunkListLocation(index: BlobIndex, idHex: string): BlobLocation {
  const loc = index.get(idHex);
  if (!loc || loc.type !== 'tree') throw new IntegrityError(`chunk list ${shortHex(idHex)}`, 'is needed by a file but no index lists it');
  if (loc.rawLength === 0 || loc.rawLength % ID_BYTES !== 0 || loc.rawLength > LIST_IDS * ID_BYTES) {
    throw new IntegrityError(`chunk list ${shortHex(idHex)}`, `is ${loc.rawLength} bytes, not 1 to ${LIST_IDS} chunk ids`);
  }
  return loc;
}

/** A pack read, with a missing pack or a short range reported as damage to the repository. */
async function checkedPackRead(pack: string, range: ByteRange | undefined, read: () => Promise<Buffer>): Promise<Buffer> {
  const bytes = await packRead(pack, read);
  if (range && bytes.length !== range.length) throw packTruncated(pack);
  return bytes;
}

/** A read of a pack, a pack storage no longer has reported as damage. */
async function packRead<T>(pack: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (e) {
    if (e instanceof ChatsafeError && e.kind === 'not-found') throw new IntegrityError(objectPath('data', pack), 'is missing from storage (deleted?)');
    throw e;
  }
}

function packTruncated(pack: string): IntegrityError {
  return new IntegrityError(objectPath('data', pack), 'pack is shorter than the index says (truncated)');
}
