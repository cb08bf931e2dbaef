/**
 * Node's ciphers return every output in a new buffer outside the JavaScript
 * heap: sealing or opening 1 GiB leaves 1 GiB of such garbage behind, held by
 * tiny JavaScript objects. V8 collects it only once 64 MiB of it have piled up
 * (its external-memory trigger), which made the crypto worker's garbage a
 * third of a backup's resident memory. A minor collection (a scavenge of the
 * young generation, where those objects still are) every few MiB sealed
 * frees them at about a tenth of a millisecond each.
 */
import { v8Collector, type Collect } from './v8-collector.js';

export class YoungGarbage {
  private bytes = 0;

  constructor(
    private readonly every: number,
    private readonly collect: Collect | null = v8Collector(),
  ) {}

  /** Counts bytes that went through a cipher; collects once `every` bytes have since the last time. */
  add(n: number): void {
    this.bytes += n;
    if (this.bytes < this.every || !this.collect) return;
    this.bytes = 0;
    this.collect({ type: 'minor' });
  }
}
