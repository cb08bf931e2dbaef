/**
 * Token buckets per key (an IP address or an account id), refilled
 * continuously. Per node and in memory: with several nodes the effective
 * limit is the sum; the guess counter in the database is what bounds
 * guessing, the rate limits only slow it down and shed load.
 */
import { isIPv4, isIPv6 } from 'node:net';
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

/**
 * The rate-limit key for a client address. One IPv6 client usually holds a
 * whole /64 and can pick a new address per request, so IPv6 addresses count
 * by their /64; an IPv4-mapped IPv6 address counts as its IPv4 address.
 */
export function rateLimitKey(address: string): string {
  const ip = address.split('%')[0]!; // a zone id names the interface, not the client
  if (isIPv4(ip) || !isIPv6(ip)) return ip;
  let text = ip.toLowerCase();
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const groups = tail === undefined ? headGroups : [...headGroups, ...Array<string>(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups];
  const words = groups.map((g) => parseInt(g, 16));
  if (words.slice(0, 5).every((w) => w === 0) && words[5] === 0xffff) {
    return [words[6]! >> 8, words[6]! & 0xff, words[7]! >> 8, words[7]! & 0xff].join('.');
  }
  return `${words.slice(0, 4).map((w) => w.toString(16)).join(':')}::/64`;
}
