import { assertNonNegative } from './errors.js';

/**
 * The nextUpdate of every stored staple, sorted, so that the soonest expiry and the
 * remaining-lifetime buckets can be computed for any `now` (at scrape time) without the caller
 * having to report again as time passes. 50,000 staples take 400 KB.
 */
export class StapleLifetimes {
  private readonly sorted: Float64Array;

  /** `nextUpdates`: one per stored staple, as Dates or epoch milliseconds. */
  constructor(nextUpdates: Iterable<Date | number>) {
    const millis: number[] = [];
    for (const nextUpdate of nextUpdates) {
      const ms = typeof nextUpdate === 'number' ? nextUpdate : nextUpdate.getTime();
      assertNonNegative(ms, 'staple nextUpdate (epoch ms)');
      millis.push(ms);
    }
    this.sorted = Float64Array.from(millis).sort();
  }

  get size(): number {
    return this.sorted.length;
  }

  /**
   * Seconds from `now` until the soonest nextUpdate (negative when one is overdue), or +Inf when
   * no staple is stored: nothing can expire, and `< threshold` alerts stay quiet.
   */
  soonestExpirySeconds(now: number): number {
    const soonest = this.sorted[0];
    return soonest === undefined ? Number.POSITIVE_INFINITY : (soonest - now) / 1000;
  }

  /** How many staples expire within `seconds` of `now` (remaining lifetime <= seconds, overdue included). */
  countExpiringWithin(seconds: number, now: number): number {
    return upperBound(this.sorted, now + seconds * 1000);
  }
}

/** Index of the first element greater than `limit` = count of elements <= limit. */
function upperBound(sorted: Float64Array, limit: number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if ((sorted[mid] ?? Number.POSITIVE_INFINITY) <= limit) low = mid + 1;
    else high = mid;
  }
  return low;
}
