// The CREATE limit per source (issue 14 point 8): CREATE needs no puzzle
// (protocol), so one source could fill the disk. A token bucket per source
// address: `burst` CREATEs at once, then `rate` per second. Pure: the clock is
// an argument; the server shell supplies the peer address and the time.
import { isIPv6 } from 'node:net';

/**
 * The key a peer address is limited under: an IPv4 address as is (also when
 * IPv4-mapped), an IPv6 address by its /64 (one host usually owns a whole /64).
 */
export function sourceKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (!isIPv6(address)) return address;
  const [head, tail = ''] = address.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = [...h, ...Array(Math.max(0, 8 - h.length - t.length)).fill('0'), ...t];
  return groups.slice(0, 4).map((g) => parseInt(g || '0', 16).toString(16)).join(':') + '::/64';
}

export class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  /**
   * @param rate tokens added per second (0: no limit at all)
   * @param burst bucket size (CREATEs allowed at once)
   * @param maxSources sources remembered at most; beyond, the least recently
   *   seen is forgotten (its bucket is full again: the error is towards admitting)
   */
  constructor(
    readonly rate: number,
    readonly burst: number,
    private readonly maxSources = 100_000,
  ) {
    if (!(rate >= 0) || !Number.isFinite(rate)) throw new RangeError(`rate must be >= 0: ${rate}`);
    if (!Number.isInteger(burst) || burst < 1) throw new RangeError(`burst must be >= 1: ${burst}`);
  }

  /** Take one token for `source` at `now` (seconds); false when its bucket is empty. */
  take(source: string, now: number): boolean {
    if (this.rate === 0) return true;
    let b = this.buckets.get(source);
    if (b) {
      this.buckets.delete(source); // re-inserted below: Map order = least recently seen first
      b.tokens = Math.min(this.burst, b.tokens + Math.max(0, now - b.at) * this.rate);
      b.at = now;
    } else {
      b = { tokens: this.burst, at: now };
      if (this.buckets.size >= this.maxSources) this.buckets.delete(this.buckets.keys().next().value!);
    }
    this.buckets.set(source, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  /** Sources remembered (tests). */
  get size(): number {
    return this.buckets.size;
  }
}
