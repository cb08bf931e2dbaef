/**
 * Where each chunk of a run of files lies, in the order the files are restored.
 *
 * A restore looks up every chunk of its plan once, as the plan is made, and
 * keeps of each only its index row and the number of its pack here: 8 bytes a
 * chunk. The row (in the index's temporary file, `repo/row-store.ts`) gives
 * back the chunk's id and where it lies as its batch is read, so neither the
 * files' chunk lists (32 bytes a chunk) nor the index's table need stay: held
 * to the end, the lists and 16 bytes of place a chunk were 10 MB for the 3 GiB
 * export's 215,000 chunks, and what grew most in a restore from 1 to 3 GiB.
 * A chunk the index lacks stops the restore before anything is written.
 */
import { ID_BYTES, shortHex } from '../crypto/ids.js';
import { IntegrityError } from '../errors.js';
import type { ChunkList } from '../repo/chunk-list.js';
import { blankPlace, type BlobIndex, type StoredRows } from '../repo/master-index.js';

export class ChunkPlaces {
  /** The packs the chunks lie in, by the number `pack` gives. */
  readonly packs: readonly string[];
  private readonly packNos: Uint32Array;
  private readonly rows: Uint32Array;

  private constructor(
    count: number,
    packs: string[],
    /** Where each chunk's id and place are read back (`row-store.ts`'s `rowAt`, `rowOffset`...). */
    readonly stored: StoredRows,
  ) {
    this.packs = packs;
    this.packNos = new Uint32Array(count);
    this.rows = new Uint32Array(count);
  }

  /** The places of every chunk of `files`, in order; throws, naming the chunk, when one is not a data blob the index holds. */
  static resolve(files: ReadonlyArray<{ readonly content: ChunkList }>, index: BlobIndex): ChunkPlaces {
    const count = files.reduce((n, f) => n + f.content.length, 0);
    const packs: string[] = [];
    // By the index's number of each pack, its number here plus one (0: not seen yet).
    const localNos: number[] = [];
    const places = new ChunkPlaces(count, packs, index.storedRows());
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
        places.packNos[k] = no;
        places.rows[k] = place.row;
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

  /** Chunk `k`'s row in `stored`. */
  row(k: number): number {
    return this.rows[k]!;
  }
}
