/**
 * Where each chunk of a run of files lies, in the order the files are restored.
 *
 * A restore looks up every chunk of its plan once. Resolved as the plan is
 * made, the places take 16 bytes a chunk, and the index, about 55 bytes a
 * blob (its ids, table and rows: 11.7 MiB for the 3 GiB export's 214,000
 * blobs), can go before the restore's buffers are taken, instead of staying
 * to the end. A chunk the index lacks stops the restore before anything is
 * written.
 */
import { ID_BYTES, shortHex } from '../crypto/ids.js';
import { IntegrityError } from '../errors.js';
import type { ChunkList } from '../repo/chunk-list.js';
import { blankPlace, type BlobIndex } from '../repo/master-index.js';

export class ChunkPlaces {
  /** The packs the chunks lie in, by the number `pack` gives. */
  readonly packs: readonly string[];
  private readonly packNos: Uint32Array;
  /** 32 bits, widened when a pack written by another client holds a chunk past 4 GiB. */
  private offsets: Uint32Array | Float64Array;
  private readonly lengths: Uint32Array;
  private readonly rawLengths: Uint32Array;

  private constructor(count: number, packs: string[]) {
    this.packs = packs;
    this.packNos = new Uint32Array(count);
    this.offsets = new Uint32Array(count);
    this.lengths = new Uint32Array(count);
    this.rawLengths = new Uint32Array(count);
  }

  /** The places of every chunk of `files`, in order; throws, naming the chunk, when one is not a data blob the index holds. */
  static resolve(files: ReadonlyArray<{ readonly content: ChunkList }>, index: BlobIndex): ChunkPlaces {
    const count = files.reduce((n, f) => n + f.content.length, 0);
    const packs: string[] = [];
    // By the index's number of each pack, its number here plus one (0: not seen yet).
    const localNos: number[] = [];
    const places = new ChunkPlaces(count, packs);
    // One place written over for every chunk, and offsets into each list's bytes: an object and a
    // view for each chunk were a tenth of the garbage a restore of the 1 GiB export made.
    const place = blankPlace();
    let k = 0;
    for (const f of files) {
      const bytes = f.content.bytes();
      for (let at = 0; at < bytes.length; at += ID_BYTES, k++) {
        if (!index.locateAt(bytes, at, place) || place.type !== 'data') {
          throw new IntegrityError(`data blob ${shortHex(bytes.subarray(at, at + ID_BYTES))}`, 'is missing from the index', 'The repository is incomplete. Run `chatsafe check` to see what is affected.');
        }
        let no = (localNos[place.packNo] ?? 0) - 1;
        if (no < 0) localNos[place.packNo] = (no = packs.push(place.pack) - 1) + 1;
        places.set(k, no, place.offset, place.length, place.rawLength);
      }
    }
    return places;
  }

  get count(): number {
    return this.packNos.length;
  }

  /** The number of chunk `k`'s pack in `packs`. */
  pack(k: number): number {
    return this.packNos[k]!;
  }

  offset(k: number): number {
    return this.offsets[k]!;
  }

  /** Its sealed length. */
  length(k: number): number {
    return this.lengths[k]!;
  }

  /** Its plaintext length. */
  rawLength(k: number): number {
    return this.rawLengths[k]!;
  }

  private set(k: number, pack: number, offset: number, length: number, rawLength: number): void {
    if (offset > 0xffffffff && this.offsets instanceof Uint32Array) this.offsets = Float64Array.from(this.offsets);
    this.packNos[k] = pack;
    this.offsets[k] = offset;
    this.lengths[k] = length;
    this.rawLengths[k] = rawLength;
  }
}
