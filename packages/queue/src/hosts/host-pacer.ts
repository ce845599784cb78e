import { setTimeout as sleep } from 'node:timers/promises';
import type { HostLeases } from './host-lease.js';
import { LeaseBook, type LeaseSize } from './lease-book.js';

/**
 * Lease requests kept in flight at once. A lease is ~20 ms of requests, and its round trip
 * (Bottleneck's Lua calls, then its timer) took longer than that on a loaded 2-core machine: with
 * one request at a time, a worker beside a scanning `warm --no-work` got 396-434 of 500 req/s while
 * the scan ran (no slot expired: the leases came late). Two in flight overlap the round trips.
 */
export const LEASES_AHEAD = 2;

/**
 * Spaces one host's requests in this process: slots come from leases of the shared budget
 * (HostLeases), spent evenly (LeaseBook). Up to LEASES_AHEAD lease requests at a time, shared by
 * every waiter.
 */
export class HostPacer {
  private readonly book = new LeaseBook();
  /** Lease requests in flight, oldest first. */
  private readonly leasing: Promise<void>[] = [];
  /** Requests waiting for a slot now. */
  waiting = 0;

  /** Nothing waits and no lease is being reserved: the pacer can be dropped. */
  get idle(): boolean {
    return this.waiting === 0 && this.leasing.length === 0;
  }

  constructor(
    private readonly host: string,
    private readonly leases: HostLeases,
    private readonly now: () => number,
  ) {}

  /** Resolves at this request's slot. */
  async slot(size: LeaseSize): Promise<void> {
    this.waiting++;
    try {
      for (;;) {
        const at = this.book.take(this.now());
        if (at !== undefined) {
          // Keep the next leases reserved while this one is spent, so the Redis round trips (slow on
          // a loaded machine) never leave a gap. A reservation costs nothing until its time comes.
          while (this.leasing.length < LEASES_AHEAD) this.lease(size).catch(() => {});
          const wait = at - this.now();
          if (wait > 0) await sleep(wait);
          return;
        }
        await (this.leasing[0] ?? this.lease(size));
      }
    } finally {
      this.waiting--;
    }
  }

  private lease(size: LeaseSize): Promise<void> {
    const leased: Promise<void> = this.leases
      .lease(this.host, size.spanMs, this.now)
      .then((start) => this.book.add(start, size))
      .finally(() => {
        const at = this.leasing.indexOf(leased);
        if (at !== -1) void this.leasing.splice(at, 1); // (the removed promise is this one, settled)
      });
    this.leasing.push(leased);
    return leased;
  }
}
