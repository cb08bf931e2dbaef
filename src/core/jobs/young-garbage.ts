/**
 * Node's ciphers return every output in a new buffer outside the JavaScript
 * heap: sealing or opening 1 GiB leaves 1 GiB of such garbage behind, held by
 * tiny JavaScript objects. V8 collects it only once 64 MiB of it have piled up
 * (its external-memory trigger), which made the crypto worker's garbage a
 * third of a backup's resident memory. A minor collection (a scavenge of the
 * young generation, where those objects still are) every few MiB sealed
 * frees them at about a tenth of a millisecond each.
 *
 * `gc` is V8's own collector entry point, exposed the way V8 allows at run
 * time: the flag is set, and a new context gets the function. Where that is
 * refused, nothing is collected early and only memory is spent.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

type Collect = (options: { type: 'minor' }) => void;

function minorCollector(): Collect | null {
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as unknown;
    return typeof gc === 'function' ? (gc as Collect) : null;
  } catch {
    return null;
  }
}

export class YoungGarbage {
  private bytes = 0;

  constructor(
    private readonly every: number,
    private readonly collect: Collect | null = minorCollector(),
  ) {}

  /** Counts bytes that went through a cipher; collects once `every` bytes have since the last time. */
  add(n: number): void {
    this.bytes += n;
    if (this.bytes < this.every || !this.collect) return;
    this.bytes = 0;
    this.collect({ type: 'minor' });
  }
}
