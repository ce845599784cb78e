import { setTimeout as sleep } from 'node:timers/promises';
import type { HostLeases } from './host-lease.js';
import { LeaseBook, type LeaseSize } from './lease-book.js';

/**
 * Spaces one host's requests in this process: slots come from leases of the shared budget
 * (HostLeases), spent evenly (LeaseBook). One lease request at a time, shared by every waiter.
 */
export class HostPacer {
  private readonly book = new LeaseBook();
  private leasing: Promise<void> | undefined;
  /** Requests waiting for a slot now. */
  waiting = 0;

  /** Nothing waits and no lease is being reserved: the pacer can be dropped. */
  get idle(): boolean {
    return this.waiting === 0 && this.leasing === undefined;
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
          // Keep the next lease reserved while this one is spent, so the Redis round trip (slow on a
          // loaded machine) never leaves a gap. A reservation costs nothing until its time comes.
          if (this.leasing === undefined) this.lease(size).catch(() => {});
          const wait = at - this.now();
          if (wait > 0) await sleep(wait);
          return;
        }
        await this.lease(size);
      }
    } finally {
      this.waiting--;
    }
  }

  private lease(size: LeaseSize): Promise<void> {
    this.leasing ??= this.leases
      .lease(this.host, size.spanMs, this.now)
      .then((start) => this.book.add(start, size))
      .finally(() => {
        this.leasing = undefined;
      });
    return this.leasing;
  }
}
