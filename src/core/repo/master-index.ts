/**
 * All index files merged in memory: where each blob is, and which packs
 * exist. A chat database is stored page by page, so a repository holds
 * hundreds of thousands of blobs, and the index grew with an export more
 * than anything else a backup keeps. Its rows (each blob entry's id and
 * place, 48 bytes) are therefore kept in a temporary file (`row-store.ts`),
 * and memory holds only the first four bytes of each id and an
 * open-addressing table over them: about 10 bytes a blob, against about 55
 * when the rows were in typed arrays here, and 250 for a JavaScript object
 * with a hex key. Lookups allocate nothing but the location they return. The
 * tags and their table are in shared buffers that grow in place, where a
 * backup's crypto workers read them (`indexed-ids.ts`).
 */
import { hexInto, ID_BYTES, idTag, type BlobKey } from '../crypto/ids.js';
import { IntegrityError } from '../errors.js';
import { BLOB_TYPE_BY_CODE, BLOB_TYPES, type BlobType } from './blob.js';
import type { BlobLocation, IndexFile, PackRecord } from './index-file.js';
import type { ChunkList } from './chunk-list.js';
import { asciiBytes, jsonDocument, type JsonBytes, type JsonDocument } from './json-bytes.js';
import { findIdRow, growableIdBuffers, growShared, slotsView, tableHasRoom, tagsView, type IndexedIdBuffers } from './indexed-ids.js';
import { forEachPackEntry, packEntryCount } from './pack.js';
import { PieceFiller } from './piece-filler.js';
import { BLOCK_ROWS, MAX_ROW_OFFSET, ROW_BYTES, rowAt, rowIsWellFormed, rowLength, rowOffset, rowRawLength, RowStore, rowType } from './row-store.js';

export interface PackInfo {
  readonly size: number;
  readonly blobCount: number;
}

/** A pack's rows are added together, so they are one contiguous range. */
interface PackRows extends PackInfo {
  readonly no: number;
  readonly firstRow: number;
}

/** One blob entry, as `blobsOfPack` lists them. */
export type IndexedBlob = { readonly id: string } & BlobLocation;

/**
 * What reading a repository needs of its index. The repository shares one
 * instance between the steps of a run (a backup's verification, the
 * retention after it, the app's browsing), so readers never change it.
 */
export interface BlobIndex {
  readonly files: ReadonlySet<string>;
  readonly packs: ReadonlyMap<string, PackInfo>;
  readonly blobCount: number;
  has(id: BlobKey): boolean;
  /** Whether every chunk of a list is indexed. */
  hasAll(ids: ChunkList): boolean;
  get(id: BlobKey): BlobLocation | undefined;
  /** The pack holding a blob, without building its whole location. */
  packOf(id: BlobKey): string | undefined;
  /** `packOf` for the id at `bytes[at, at + 32)`, such as a chunk list's, without a view of it. */
  packOfAt(bytes: Uint8Array, at: number): string | undefined;
  /**
   * `get` for the id at `bytes[at, at + 32)`, written into `into` instead of a new object: a
   * restore looks up every chunk of its plan (72,000 for the 1 GiB export) at once. False when
   * the index does not hold it.
   */
  locateAt(bytes: Uint8Array, at: number, into: BlobPlace): boolean;
  blobsOfPack(pack: string): IndexedBlob[] | undefined;
  /** The bytes of a pack's blobs as stored (sealed), without its header. */
  blobBytes(pack: string): number | undefined;
  /** How many blobs a pack holds. */
  blobCountOf(pack: string): number | undefined;
  /** An index file of these packs, then `more.records`, superseding `more.supersedes`, as a JSON document written on demand. */
  indexFileJson(packs: readonly string[], more?: IndexFileExtras): JsonDocument;
  /** The packs an index file lists; undefined when not known (an index cache from before this was kept). */
  packsOfFile(file: string): readonly string[] | undefined;
  clone(): MasterIndex;
  /** An empty set of this index's blobs (see BlobMarks). */
  newMarks(): BlobMarks;
  /**
   * The rows as `locateAt` numbers them (`row-store.ts`), for a run that looks blobs up once and
   * reads them later: the rows stay readable while it keeps them, after the index itself is let go.
   */
  storedRows(): StoredRows;
}

/** An index's rows, read back by number (`rowAt`, `rowOffset`... in `row-store.ts` read the bytes). */
export interface StoredRows {
  /** The bytes holding `row`, at `rowAt(row)`: valid until the next call. */
  rowBytes(row: number): Buffer;
}

/** Where a blob lies, as `locateAt` writes it; `packNo` numbers the index's packs (the same pack, the same number). */
export interface BlobPlace {
  /** The index's row (see `storedRows`). */
  row: number;
  packNo: number;
  pack: string;
  type: BlobType;
  offset: number;
  length: number;
  rawLength: number;
}

/** A place to write into, before the first lookup. */
export function blankPlace(): BlobPlace {
  return { row: -1, packNo: -1, pack: '', type: 'data', offset: 0, length: 0, rawLength: 0 };
}

/**
 * A set of the blobs of one index, a byte per row instead of the ids: what a prune collects of
 * every kept snapshot is every data blob it uses, and as a set of 32-byte ids (`BlobIdSet`) that
 * was 10-12 MiB for the 3 GiB export at the end of every backup, its highest moment then. Valid
 * only while the index does not change.
 */
export interface BlobMarks {
  /** Marks the id at `bytes[at, at + 32)`; false when the index does not hold it. */
  markAt(bytes: Uint8Array, at: number): boolean;
  has(id: BlobKey): boolean;
  /** The stored bytes of the marked blobs, by pack. */
  bytesByPack(): Map<string, number>;
}

export class MasterIndex implements BlobIndex {
  readonly files = new Set<string>();
  /** The packs each index file lists, by pack number: prune replaces only the files that name a pack it changes. */
  private readonly filePacks = new Map<string, number[]>();
  private readonly packRows = new Map<string, PackRows>();
  private packNames: string[] = [];
  /** Each pack's first row, by pack number: a row's pack is found by bisection, not kept for each row. */
  private packFirstRows: number[] = [];
  private rows = 0;
  private distinct = 0;
  /** The rows themselves, ids included; replaced only by `retain`. */
  private store = new RowStore();
  /**
   * Tags, table and rows as the workers are handed them: the tags' and the table's buffers never
   * change, they only grow; `retain`, which runs when no worker reads, moves the rows to a new store.
   */
  private shared: IndexedIdBuffers = growableIdBuffers(this.store.share);
  /** Each row's tag (its id's first four bytes), viewed again as the buffer grows (`reserve`). */
  private tags = tagsView(this.shared.tags);
  /** Row + 1 of each distinct id's first entry; 0 is an empty slot. */
  private slots = slotsView(this.shared.slots);
  private readonly moves = new Int32Array(this.shared.moves);
  private readonly scratch = new Uint8Array(ID_BYTES);
  private readonly otherId = new Uint8Array(ID_BYTES);

  constructor() {
    this.growSlots(FIRST_SLOTS);
  }

  /** Packs by id, with their size and how many blob entries they hold. */
  get packs(): ReadonlyMap<string, PackInfo> {
    return this.packRows;
  }

  /** Distinct blobs. */
  get blobCount(): number {
    return this.distinct;
  }

  /** Whether this index was built from exactly these index files (names are hashes of contents: then it is still right). */
  builtFrom(names: readonly string[]): boolean {
    return names.length === this.files.size && names.every((n) => this.files.has(n));
  }

  addFile(name: string, file: IndexFile): void {
    for (const p of file.packs) {
      // All checked first: a row once in the store stays there.
      for (const b of p.blobs) {
        if (b.offset + b.length > p.size || b.offset > MAX_ROW_OFFSET) throw new IntegrityError(`index/${name}`, `blob ${b.id.slice(0, 16)} lies outside its pack`);
        if (b.length > 0xffffffff || b.rawLength > 0xffffffff) throw new IntegrityError(`index/${name}`, `blob ${b.id.slice(0, 16)} is larger than a blob can be`);
        if (!hexInto(b.id, this.scratch, 0)) throw new IntegrityError('index', 'a blob id is not 64 hex digits');
      }
      this.addRows(p.id, p.size, p.blobs.length, () => {
        for (const b of p.blobs) {
          hexInto(b.id, this.scratch, 0);
          this.appendRow(this.scratch, 0, BLOB_TYPES[b.type], b.offset, b.length, b.rawLength);
        }
      });
    }
    this.addFileName(name, file.packs.map((p) => p.id));
  }

  /** Records an index file that lists `packs`, all of them already in this index. */
  addFileName(name: string, packs: readonly string[]): void {
    this.files.add(name);
    this.filePacks.set(name, packs.map((p) => this.packRows.get(p)!.no));
  }

  packsOfFile(file: string): readonly string[] | undefined {
    return this.filePacks.get(file)?.map((no) => this.packNames[no]!);
  }

  addPack(record: PackRecord): void {
    for (const e of record.entries) if (e.id.length !== ID_BYTES || e.offset > MAX_ROW_OFFSET) throw new IntegrityError('index', 'a blob entry is malformed');
    this.addRows(record.id, record.size, record.entries.length, () => {
      for (const e of record.entries) this.appendRow(e.id, 0, BLOB_TYPES[e.type], e.offset, e.length, e.rawLength);
    });
  }

  /**
   * `addPack` from the pack's plain header as a backup's worker hands it over (checked as
   * `decodePackEntries` checks it), without an object per entry: a pack of database pages holds
   * thousands, and objects made per pack outlived the young generation.
   */
  addPackHeader(pack: string, size: number, header: Uint8Array, object: string): void {
    const count = packEntryCount(header, object);
    // Checked whole before any row goes into the store, where it would stay.
    forEachPackEntry(header, size, object, () => {});
    this.addRows(pack, size, count, () => {
      forEachPackEntry(header, size, object, (_i, type, idAt, offset, length, rawLength) => this.appendRow(header, idAt, BLOB_TYPES[type], offset, length, rawLength));
    });
  }

  /**
   * Rows for one pack, which `fill` appends (`appendRow`), each checked before: a row in the store
   * stays there. A pack listed again (by two index files) keeps its first listing: the listings
   * name the same bytes, so they agree.
   */
  private addRows(pack: string, size: number, count: number, fill: () => void): void {
    if (this.packRows.has(pack)) return;
    this.reserve(count);
    const no = this.packNames.length;
    const firstRow = this.rows;
    fill();
    if (this.store.rows !== firstRow + count) throw new Error(`addRows: ${this.store.rows - firstRow} rows added for ${count}`);
    this.packNames.push(pack);
    this.packFirstRows.push(firstRow);
    this.packRows.set(pack, { size, blobCount: count, no, firstRow });
    this.rows += count;
    for (let row = firstRow; row < this.rows; row++) this.insert(row);
  }

  /** The next row, its tag first (a worker finds a row only through the table, which names it last). */
  private appendRow(id: Uint8Array, idAt: number, type: number, offset: number, length: number, rawLength: number): void {
    this.tags[this.store.rows] = idTag(id, idAt);
    this.store.append(id, idAt, type, offset, length, rawLength);
  }

  has(id: BlobKey): boolean {
    return this.find(id) >= 0;
  }

  hasAll(ids: ChunkList): boolean {
    // Offsets into the list's bytes: a view per id was 5-10 MB of garbage in an unchanged backup.
    const bytes = ids.bytes();
    for (let at = 0; at < bytes.length; at += ID_BYTES) if (this.findBytes(bytes, at) < 0) return false;
    return true;
  }

  get(id: BlobKey): BlobLocation | undefined {
    const row = this.find(id);
    return row < 0 ? undefined : this.location(row);
  }

  packOf(id: BlobKey): string | undefined {
    return this.packOfRow(this.find(id));
  }

  packOfAt(bytes: Uint8Array, at: number): string | undefined {
    return this.packOfRow(this.findBytes(bytes, at));
  }

  locateAt(bytes: Uint8Array, at: number, into: BlobPlace): boolean {
    const row = this.findBytes(bytes, at);
    if (row < 0) return false;
    const stored = this.store.rowBytes(row);
    const o = rowAt(row);
    into.row = row;
    into.packNo = this.packNoOf(row);
    into.pack = this.packNames[into.packNo]!;
    into.type = BLOB_TYPE_BY_CODE[rowType(stored, o)]!;
    into.offset = rowOffset(stored, o);
    into.length = rowLength(stored, o);
    into.rawLength = rowRawLength(stored, o);
    return true;
  }

  private packOfRow(row: number): string | undefined {
    return row < 0 ? undefined : this.packNames[this.packNoOf(row)];
  }

  /** Every entry of a pack in pack order, duplicates of blobs held elsewhere included (prune needs them). */
  blobsOfPack(pack: string): IndexedBlob[] | undefined {
    const p = this.packRows.get(pack);
    if (!p) return undefined;
    const out: IndexedBlob[] = [];
    for (let row = p.firstRow; row < p.firstRow + p.blobCount; row++) out.push({ id: this.idHex(row), ...this.location(row) });
    return out;
  }

  newMarks(): BlobMarks {
    // A blob's mark is at the row the table names for its id: its first entry, where `get` finds it.
    const marked = new Uint8Array(this.rows);
    return {
      markAt: (bytes, at) => {
        const row = this.findBytes(bytes, at);
        if (row >= 0) marked[row] = 1;
        return row >= 0;
      },
      has: (id) => {
        const row = this.find(id);
        return row >= 0 && marked[row] === 1;
      },
      bytesByPack: () => {
        const bytes = new Map<string, number>();
        for (const [name, p] of this.packRows) {
          let sum = 0;
          let any = false;
          for (let row = p.firstRow; row < p.firstRow + p.blobCount; row++) {
            if (marked[row] === 0) continue;
            any = true;
            sum += this.lengthOf(row);
          }
          if (any) bytes.set(name, sum);
        }
        return bytes;
      },
    };
  }

  storedRows(): StoredRows {
    return this.store;
  }

  blobCountOf(pack: string): number | undefined {
    return this.packRows.get(pack)?.blobCount;
  }

  blobBytes(pack: string): number | undefined {
    const p = this.packRows.get(pack);
    if (!p) return undefined;
    let bytes = 0;
    for (let row = p.firstRow; row < p.firstRow + p.blobCount; row++) bytes += this.lengthOf(row);
    return bytes;
  }

  /**
   * The index file listing these packs, then the packs in `more.records` (not in this index: a
   * prune's new packs), superseding `more.supersedes`: the bytes `JSON.stringify` gives for the
   * same index file (FORMAT.md), written from the rows without an object or string per blob (see
   * JsonBytes), in pieces whenever the document is written out (it is read from the rows then).
   * A prune's merged index file is the whole index: for the 3 GiB bench export, built from
   * objects, it took the backup before it from 204 to 332 MiB.
   */
  indexFileJson(packs: readonly string[], more: IndexFileExtras = {}): JsonDocument {
    const records = more.records ?? [];
    const supersedes = JSON.stringify(more.supersedes ?? []);
    const rows = packs.map((name) => {
      const p = this.packRows.get(name);
      if (!p) throw new Error(`indexFileJson: pack ${name.slice(0, 16)} is not in the index`);
      return p;
    });
    return jsonDocument((w) => {
      w.ascii('{"v":1,"packs":[');
      rows.forEach((p, i) => {
        w.ascii(i === 0 ? '{"id":"' : ',{"id":"').ascii(packs[i]!).ascii('","size":').uint(p.size).ascii(',"blobs":[');
        for (let row = p.firstRow; row < p.firstRow + p.blobCount; row++) {
          const stored = this.store.rowBytes(row);
          const at = rowAt(row);
          blobJson(w, row === p.firstRow, stored, at, BLOB_TYPE_BY_CODE[rowType(stored, at)]!, rowOffset(stored, at), rowLength(stored, at), rowRawLength(stored, at));
        }
        w.ascii(']}');
      });
      records.forEach((r, i) => {
        w.ascii(i === 0 && rows.length === 0 ? '{"id":' : ',{"id":').utf8(JSON.stringify(r.id)).ascii(',"size":').uint(r.size).ascii(',"blobs":[');
        r.entries.forEach((e, j) => blobJson(w, j === 0, e.id, 0, e.type, e.offset, e.length, e.rawLength));
        w.ascii(']}');
      });
      w.ascii('],"supersedes":').utf8(supersedes).ascii('}');
    });
  }

  /** The shared buffers of the ids and their table, for a backup's crypto workers. */
  sharedIds(): IndexedIdBuffers {
    return this.shared;
  }

  /**
   * What prune leaves: only the packs `keepPack` keeps, without the index files `dropFiles`, in
   * place (rows move down over the dropped ones, and the id table is built again). The index then
   * says what the index files left in storage say, and is kept as the local index cache: built
   * from them again instead, the next run read and parsed every index file (a restore of the 3 GiB
   * export after a backup's retention, 5 s and 15 MiB more).
   */
  retain(keepPack: (pack: string) => boolean, dropFiles: Iterable<string>): void {
    const kept = new RowStore();
    const names: string[] = [];
    const firstRows: number[] = [];
    const renumbered = new Map<number, number>();
    let write = 0;
    for (let no = 0; no < this.packNames.length; no++) {
      const name = this.packNames[no]!;
      const p = this.packRows.get(name)!;
      if (!keepPack(name)) {
        this.packRows.delete(name);
        continue;
      }
      for (let i = 0; i < p.blobCount; i++) {
        const row = p.firstRow + i;
        kept.appendRow(this.store.rowBytes(row), rowAt(row));
        this.tags[write + i] = this.tags[row]!;
      }
      firstRows.push(write);
      renumbered.set(no, names.length);
      this.packRows.set(name, { size: p.size, blobCount: p.blobCount, no: names.length, firstRow: write });
      names.push(name);
      write += p.blobCount;
    }
    // The old rows' file closes once nothing reads them (a restore or export may hold them: `storedRows`).
    this.store = kept;
    this.shared = { ...this.shared, rows: kept.share };
    this.packNames = names;
    this.packFirstRows = firstRows;
    this.rows = write;
    for (const f of dropFiles) {
      this.files.delete(f);
      this.filePacks.delete(f);
    }
    for (const [f, nos] of this.filePacks) this.filePacks.set(f, nos.flatMap((no) => (renumbered.has(no) ? [renumbered.get(no)!] : [])));
    // Prune runs when no backup's workers read the index.
    this.rebuildTable(this.slots.length, this.rows);
  }

  /** An independent copy (the repository keeps one between the steps of a run). */
  clone(): MasterIndex {
    const c = new MasterIndex();
    for (const f of this.files) c.files.add(f);
    for (const [f, nos] of this.filePacks) c.filePacks.set(f, nos);
    for (const [k, v] of this.packRows) c.packRows.set(k, v);
    c.packNames = [...this.packNames];
    c.packFirstRows = [...this.packFirstRows];
    // The same room as this index's, taken while the clone holds no rows, and only the tags in use
    // copied: a copy of the room past them, all zeros, touched pages that held nothing.
    c.reserve(this.tags.length);
    c.tags.set(this.tags.subarray(0, this.rows));
    for (let row = 0; row < this.rows; row++) c.store.appendRow(this.store.rowBytes(row), rowAt(row));
    c.rows = this.rows;
    c.distinct = this.distinct;
    c.growSlots(this.slots.length);
    c.slots.set(this.slots);
    return c;
  }

  /** The index as bytes, for the local index cache (`index-cache.ts`), which seals them. */
  toBytes(): Buffer {
    return Buffer.concat(Array.from(this.toParts(), (p) => Buffer.from(p)));
  }

  /**
   * What `toBytes` joins, a piece at a time: the rows a block at a time as the store holds them,
   * each piece valid only until the next is asked for, so a caller sealing it to a file needs no
   * copy of the whole. Layout: the header's length (u32), the header (JSON), the row count (u32),
   * then the rows (`row-store.ts`).
   */
  *toParts(): Generator<Uint8Array, void, undefined> {
    const head = Buffer.from(
      JSON.stringify({
        layout: CACHE_LAYOUT,
        files: [...this.files],
        filePacks: [...this.files].map((f) => this.filePacks.get(f) ?? null),
        packs: this.packNames.map((name) => {
          const p = this.packRows.get(name)!;
          return [name, p.size, p.blobCount];
        }),
      }),
      'utf8',
    );
    yield u32(head.length);
    yield head;
    yield u32(this.rows);
    for (let row = 0; row < this.rows; row += BLOCK_ROWS) {
      yield this.store.rowBytes(row).subarray(0, Math.min(BLOCK_ROWS, this.rows - row) * ROW_BYTES);
    }
  }

  /** The inverse of `toBytes`; throws on anything inconsistent. */
  static fromBytes(bytes: Uint8Array): MasterIndex {
    const reading = MasterIndex.fromPieces(bytes.length);
    reading.push(bytes);
    return reading.finish();
  }

  /**
   * `fromBytes` for bytes handed over a piece at a time, each row checked and added to the store as
   * it comes: read whole, the local index cache was there three times at once (as read, as opened,
   * and in the index), 66 MiB as a backup of a 6 GiB export began. `total` is how many bytes will
   * come, which bounds the rows the header may claim before anything is known to be genuine.
   * `finish` throws on anything inconsistent; an index not finished is never used.
   */
  static fromPieces(total: number): IndexFromPieces {
    const index = new MasterIndex();
    const fields = new PieceFiller();
    let head: CacheHead | null = null;
    let rows = 0;
    const headLength = Buffer.alloc(4);
    const rowCount = Buffer.alloc(4);
    // Rows are taken in steps of many blocks: a step a block was 4 MB of views and closures at 3 GiB.
    const block = Buffer.alloc(CACHE_STEP_ROWS * ROW_BYTES);
    const nextBlock = (from: number): void => {
      if (from >= rows) return;
      const count = Math.min(CACHE_STEP_ROWS, rows - from);
      fields.expect(block.subarray(0, count * ROW_BYTES), () => {
        for (let i = 0; i < count; i++) index.appendCachedRow(block, i * ROW_BYTES);
        nextBlock(from + count);
      });
    };
    fields.expect(headLength, () => {
      const length = headLength.readUInt32LE(0);
      if (length + 8 > total) throw new Error('index cache is truncated');
      const text = Buffer.alloc(length);
      fields.expect(text, () => {
        head = cacheHead(text);
        fields.expect(rowCount, () => {
          rows = rowCount.readUInt32LE(0);
          if (rows * ROW_BYTES > total - length - 8) throw new Error('index cache is truncated');
          index.reserve(rows);
          nextBlock(0);
        });
      });
    });
    return {
      push: (piece) => {
        if (!fields.push(piece)) throw new Error('index cache has trailing bytes');
      },
      finish: () => {
        if (!fields.complete || head === null) throw new Error('index cache is truncated');
        return index.completeFromCache(head, rows);
      },
    };
  }

  /** A row of the local cache, `bytes[at, at + 48)`, as the store writes it: checked, then added. */
  private appendCachedRow(bytes: Buffer, at: number): void {
    if (!rowIsWellFormed(bytes, at)) throw new Error('index cache row is malformed');
    this.tags[this.store.rows] = idTag(bytes, at);
    this.store.appendRow(bytes, at);
  }

  /** The rest of `fromPieces`, once the rows are in: the packs, the files, and the table. */
  private completeFromCache(head: CacheHead, rows: number): MasterIndex {
    let firstRow = 0;
    for (const p of head.packs) {
      if (!Array.isArray(p) || typeof p[0] !== 'string' || !Number.isSafeInteger(p[1]) || !Number.isSafeInteger(p[2]) || this.packRows.has(p[0])) throw new Error('index cache pack list is malformed');
      const [name, size, blobCount] = p as [string, number, number];
      this.packRows.set(name, { size, blobCount, no: this.packNames.length, firstRow });
      this.packNames.push(name);
      this.packFirstRows.push(firstRow);
      firstRow += blobCount;
    }
    if (firstRow !== rows || this.store.rows !== rows) throw new Error('index cache rows and packs disagree');
    for (const [i, f] of head.files.entries()) {
      if (typeof f !== 'string') throw new Error('index cache file list is malformed');
      this.files.add(f);
      // A cache written before the packs of each file were kept has none: prune then replaces every file.
      const nos = Array.isArray(head.filePacks) ? (head.filePacks[i] as unknown) : null;
      if (nos === null) continue;
      if (!Array.isArray(nos) || !nos.every((no) => Number.isSafeInteger(no) && no >= 0 && no < this.packNames.length)) throw new Error('index cache file packs are malformed');
      this.filePacks.set(f, nos as number[]);
    }
    this.rows = rows;
    // The table at its final size at once: growing it by doubling rehashed every id a dozen times.
    let slots = this.slots.length;
    while (!tableHasRoom(slots, rows + 1)) slots *= 2;
    this.growSlots(slots);
    for (let row = 0; row < rows; row++) this.insert(row);
    return this;
  }

  private location(row: number): BlobLocation {
    const stored = this.store.rowBytes(row);
    const at = rowAt(row);
    return {
      pack: this.packNames[this.packNoOf(row)]!,
      type: BLOB_TYPE_BY_CODE[rowType(stored, at)]!,
      offset: rowOffset(stored, at),
      length: rowLength(stored, at),
      rawLength: rowRawLength(stored, at),
    };
  }

  private lengthOf(row: number): number {
    return rowLength(this.store.rowBytes(row), rowAt(row));
  }

  /** The number of the pack holding `row`: the last pack whose first row is at most `row` (an empty pack's first row is its successor's). */
  private packNoOf(row: number): number {
    let lo = 0;
    let hi = this.packFirstRows.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.packFirstRows[mid]! <= row) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  private idHex(row: number): string {
    const at = rowAt(row);
    return this.store.rowBytes(row).toString('hex', at, at + ID_BYTES);
  }

  private find(id: BlobKey): number {
    if (typeof id !== 'string') return id.length === ID_BYTES ? this.findBytes(id, 0) : -1;
    return hexInto(id, this.scratch, 0) ? this.findBytes(this.scratch, 0) : -1;
  }

  /** The row of the id at `bytes[at, at + 32)`, or -1. */
  private findBytes(bytes: Uint8Array, at: number): number {
    if (at < 0 || at + ID_BYTES > bytes.length) return -1;
    return findIdRow(this.tags, this.slots, this.store.reader, bytes, at);
  }

  /** Adds `row` to the table, doubling it first when it is full; rows are inserted in order, none twice. */
  private insert(row: number): void {
    if (!tableHasRoom(this.slots.length, this.distinct + 1)) this.rebuildTable(this.slots.length * 2, row);
    this.place(row);
  }

  private place(row: number): void {
    const mask = this.slots.length - 1;
    const tag = this.tags[row]!;
    for (let s = tag & mask; ; s = (s + 1) & mask) {
      const other = this.slots[s]! - 1;
      if (other < 0) {
        this.slots[s] = row + 1;
        this.distinct++;
        return;
      }
      if (this.tags[other] === tag && this.sameId(other, row)) return; // a duplicate entry: the first stays the blob's location
    }
  }

  /** Whether two rows hold the same id: read back only when their tags are the same. */
  private sameId(a: number, b: number): boolean {
    const at = rowAt(b);
    this.otherId.set(this.store.rowBytes(b).subarray(at, at + ID_BYTES));
    return this.store.reader.holdsId(a, this.otherId, 0);
  }

  /**
   * The table at `size` slots, holding rows 0 to `placed` - 1: filled again in place, in row order,
   * so each id names its first row as before. Workers wait meanwhile (the counter is odd: see
   * indexed-ids.ts). Laid out in a second table and then copied over, as it was, the second table
   * (2 MiB for the 3 GiB export) stayed until V8's next full collection.
   */
  private rebuildTable(size: number, placed: number): void {
    Atomics.add(this.moves, 0, 1);
    try {
      this.growSlots(size);
      this.slots.fill(0);
      this.distinct = 0;
      for (let row = 0; row < placed; row++) this.place(row);
    } finally {
      // Even again, also when the table could not grow (a worker's lookup would wait for ever).
      Atomics.add(this.moves, 0, 1);
      Atomics.notify(this.moves, 0);
    }
  }

  private growSlots(count: number): void {
    growShared(this.shared.slots, count * 4);
    this.slots = slotsView(this.shared.slots);
  }

  /** Room for `more` tags, grown in place (replaced by copies twice the size, each outgrown array stayed until V8's next full collection). */
  private reserve(more: number): void {
    const need = this.rows + more;
    if (need <= this.tags.length) return;
    let cap = Math.max(1024, this.tags.length);
    while (cap < need) cap *= 2;
    growShared(this.shared.tags, cap * 4);
    this.tags = tagsView(this.shared.tags);
  }
}

const FIRST_SLOTS = 16;
/**
 * The local cache's layout (`toBytes`). 3: the rows as the row store holds them, one after another
 * (2 kept each field of the rows in an array of its own, as memory did then). A row's pack follows
 * from the pack list.
 */
const CACHE_LAYOUT = 3;
/** Rows of the local cache read into the index at a time (48 KiB). */
const CACHE_STEP_ROWS = BLOCK_ROWS * 16;

/** An index being built from the local index cache's bytes (`MasterIndex.fromPieces`). */
export interface IndexFromPieces {
  /** Throws when the bytes go past what the header said. */
  push(piece: Uint8Array): void;
  /** The index, once every byte came; throws on anything inconsistent. */
  finish(): MasterIndex;
}

/** The local index cache's header, its shape checked; the entries of its lists are checked as the index is built from them. */
interface CacheHead {
  readonly files: readonly unknown[];
  readonly filePacks: unknown;
  readonly packs: readonly unknown[];
}

function cacheHead(text: Buffer): CacheHead {
  const head = JSON.parse(text.toString('utf8')) as { layout?: unknown; files?: unknown; filePacks?: unknown; packs?: unknown };
  // A cache of another layout is read as none: the index is built from the index files again.
  if (head.layout !== CACHE_LAYOUT) throw new Error('index cache is of another layout');
  if (!Array.isArray(head.files) || !Array.isArray(head.packs)) throw new Error('index cache header is malformed');
  return { files: head.files, filePacks: head.filePacks, packs: head.packs };
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}

/** What an index file holds besides packs of the index itself. */
export interface IndexFileExtras {
  readonly records?: readonly PackRecord[];
  readonly supersedes?: readonly string[];
}

const BLOB_OPEN = [asciiBytes(',{"id":'), asciiBytes('{"id":')] as const;
const BLOB_TYPE_OFFSET: Record<BlobType, Uint8Array> = { data: asciiBytes(',"type":"data","offset":'), tree: asciiBytes(',"type":"tree","offset":') };
const BLOB_LENGTH = asciiBytes(',"length":');
const BLOB_RAW_LENGTH = asciiBytes(',"rawLength":');
const BLOB_CLOSE = asciiBytes('}');

/** One blob of an index file, as `JSON.stringify` writes it; its id is `ids[at, at + 32)`. */
function blobJson(w: JsonBytes, first: boolean, ids: Uint8Array, at: number, type: BlobType, offset: number, length: number, rawLength: number): void {
  w.raw(BLOB_OPEN[first ? 1 : 0]).hexString(ids, at, at + ID_BYTES);
  w.raw(BLOB_TYPE_OFFSET[type]).uint(offset);
  w.raw(BLOB_LENGTH).uint(length).raw(BLOB_RAW_LENGTH).uint(rawLength).raw(BLOB_CLOSE);
}
