import { describe, expect, it } from 'vitest';
import { LeaseBook, leaseSize } from './lease-book.js';

describe('leaseSize', () => {
  it('leases about 20 ms of budget at a time', () => {
    expect(leaseSize(500)).toEqual({ count: 10, intervalMs: 2, spanMs: 20 });
    expect(leaseSize(10)).toEqual({ count: 1, intervalMs: 100, spanMs: 100 });
    expect(leaseSize(100_000).count).toBe(50);
    // Whole milliseconds, rounded so the rate is never exceeded: 9 requests in 21 ms at 433/s.
    expect(leaseSize(433)).toEqual({ count: 9, intervalMs: 21 / 9, spanMs: 21 });
  });
});

describe('LeaseBook', () => {
  const size = leaseSize(500); // 10 requests, 2 ms apart, 20 ms per lease

  it('hands out slots in time order, spaced by the interval', () => {
    const book = new LeaseBook();
    book.add(1_000, size);
    expect([book.take(1_000), book.take(1_000), book.take(1_000)]).toEqual([1_000, 1_002, 1_004]);
    expect(book.remaining(1_000)).toBe(7);
  });

  it('lets a late request use a slot of its lease at once, never one of an ended lease', () => {
    const book = new LeaseBook();
    book.add(1_000, size);
    expect(book.take(1_015)).toBe(1_000); // still within the lease: goes now
    expect(book.remaining(1_019)).toBe(9);
    expect(book.remaining(1_020)).toBe(0); // the lease is over: its unused slots are gone
    expect(book.take(1_020)).toBeUndefined();
  });

  it('queues a second lease behind the first', () => {
    const book = new LeaseBook();
    book.add(1_020, size);
    book.add(1_000, size);
    const slots = Array.from({ length: 20 }, () => book.take(1_000));
    expect(slots).toEqual([...Array.from({ length: 10 }, (_, i) => 1_000 + 2 * i), ...Array.from({ length: 10 }, (_, i) => 1_020 + 2 * i)]);
    expect(book.take(1_000)).toBeUndefined();
  });
});
