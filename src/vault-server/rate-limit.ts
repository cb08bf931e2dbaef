/**
 * Token buckets per key (an IP address or an account id), refilled
 * continuously. Per node and in memory: with several nodes the effective
 * limit is the sum; the guess counter in the database is what bounds
 * guessing, the rate limits only slow it down and shed load.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly perMs: number;

  /** `perMinute` requests per minute sustained, bursts up to `burst`. */
  constructor(
    private readonly perMinute: number,
    private readonly burst: number = perMinute,
  ) {
    this.perMs = perMinute / 60_000;
  }

  /** Takes one token; returns 0 when allowed, else the seconds to wait. */
  take(key: string, now: number): number {
    if (this.perMinute <= 0) return 0; // 0 disables the limit
    const b = this.buckets.get(key) ?? { tokens: this.burst, at: now };
    b.tokens = Math.min(this.burst, b.tokens + (now - b.at) * this.perMs);
    b.at = now;
    if (this.buckets.size > 100_000) this.prune(now);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      this.buckets.set(key, b);
      return 0;
    }
    this.buckets.set(key, b);
    return Math.ceil((1 - b.tokens) / this.perMs / 1000);
  }

  /** Forgets buckets that have refilled completely, so memory stays bounded. */
  private prune(now: number): void {
    for (const [k, b] of this.buckets) if (b.tokens + (now - b.at) * this.perMs >= this.burst) this.buckets.delete(k);
  }
}
