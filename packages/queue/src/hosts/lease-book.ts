/**
 * Local spending of a host's budget. Asking the shared (Redis) limiter once per request would cost a
 * Redis round trip per request; instead a process leases a few requests at a time — `count` requests
 * spaced `intervalMs` apart from the lease's start — and spends them here. Pure: time is an argument.
 */
export interface LeaseSize {
  /** Requests per lease. */
  count: number;
  /** Spacing of those requests, ms (about 1000 / rate). */
  intervalMs: number;
  /**
   * Length of one lease, whole ms (Bottleneck keeps times as integers in Redis): the shared limiter's
   * spacing between two leases (`minTime`). Rounded up, so the rate is never exceeded.
   */
  spanMs: number;
}

/** About `leaseMs` worth of requests per lease (at least one, at most `maxCount`). */
export function leaseSize(rate: number, leaseMs = 20, maxCount = 50): LeaseSize {
  const count = Math.max(1, Math.min(maxCount, Math.round((leaseMs * rate) / 1000)));
  const spanMs = Math.ceil((count * 1000) / rate);
  return { count, intervalMs: spanMs / count, spanMs };
}

/**
 * The requests leased and not yet spent. A request may go from its slot time until `graceMs` after
 * the end of its lease; slots nobody used by then are dropped. The grace lets sending catch up after
 * a short stall (a late job, a slow Redis reply) instead of losing that budget, and bounds the catch-up
 * like a token bucket's burst: at most `graceMs` worth of requests above the rate. A quiet moment
 * longer than that never turns into a burst later.
 */
export class LeaseBook {
  private slots: { at: number; until: number }[] = [];

  /** @param graceMs - how long after the lease's end its unused slots may still be spent. @defaultValue 100 */
  constructor(private readonly graceMs = 100) {}

  add(start: number, size: LeaseSize): void {
    const until = start + size.spanMs + this.graceMs;
    for (let i = 0; i < size.count; i++) this.slots.push({ at: start + i * size.intervalMs, until });
    this.slots.sort((a, b) => a.at - b.at);
  }

  /** Takes the earliest usable slot: the time the request may go (at once when <= now), or undefined: lease more. */
  take(now: number): number | undefined {
    this.dropExpired(now);
    return this.slots.shift()?.at;
  }

  /** Slots still usable at `now`. */
  remaining(now: number): number {
    this.dropExpired(now);
    return this.slots.length;
  }

  private dropExpired(now: number): void {
    if (this.slots.some((slot) => slot.until <= now)) this.slots = this.slots.filter((slot) => slot.until > now);
  }
}
