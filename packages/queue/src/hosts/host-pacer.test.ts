// HostPacer's lease requests, with a stand-in for the shared limiter whose leases the test grants
// by hand: no Redis, no timers (slots are granted in the past, so nobody sleeps).
import { describe, expect, it } from 'vitest';
import type { HostLeases } from './host-lease.js';
import { HostPacer, LEASES_AHEAD } from './host-pacer.js';
import { leaseSize } from './lease-book.js';

/** Lease requests the test answers itself, in order. */
class ManualLeases {
  readonly pending: ((start: number) => void)[] = [];
  calls = 0;
  lease(): Promise<number> {
    this.calls++;
    return new Promise((resolve) => this.pending.push(resolve));
  }
  /** Grants the oldest request, starting at `start`, and lets the pacer's waiters run. */
  async grant(start: number): Promise<void> {
    this.pending.shift()?.(start);
    for (let i = 0; i < 10; i++) await Promise.resolve();
  }
}

const size = leaseSize(500); // 10 slots of 2 ms per 20 ms lease
const settle = async (): Promise<void> => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

describe('HostPacer', () => {
  it('keeps two lease requests in flight while slots are taken (LEASES_AHEAD), never more', async () => {
    const leases = new ManualLeases();
    const pacer = new HostPacer('ocsp.test', leases as unknown as HostLeases, () => 1_000);
    let sent = 0;
    const requests = Array.from({ length: 35 }, () => pacer.slot(size).then(() => sent++));
    await settle();
    expect(leases.calls).toBe(1); // nothing leased yet: one request, shared by every waiter

    await leases.grant(900); // 10 slots, all due
    expect(sent).toBe(10);
    expect(LEASES_AHEAD).toBe(2);
    expect(leases.pending.length).toBe(2); // the next ones reserved while these are spent

    await leases.grant(920);
    await leases.grant(940);
    await leases.grant(960);
    await Promise.all(requests);
    expect(sent).toBe(35);
    expect(leases.pending.length).toBeLessThanOrEqual(LEASES_AHEAD);
    expect(leases.calls).toBe(4 + leases.pending.length);
    expect(pacer.idle).toBe(false); // a reservation is still out
    while (leases.pending.length > 0) await leases.grant(980);
    expect(pacer.idle).toBe(true);
  });
});
