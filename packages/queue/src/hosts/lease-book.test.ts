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
    const book = new LeaseBook(0);
    book.add(1_000, size);
    expect([book.take(1_000), book.take(1_000), book.take(1_000)]).toEqual([1_000, 1_002, 1_004]);
    expect(book.remaining(1_000)).toBe(7);
  });

  it('lets a late request catch up within the grace, never later', () => {
    const book = new LeaseBook(100);
    book.add(1_000, size);
    expect(book.take(1_015)).toBe(1_000); // within the lease: goes now
    expect(book.take(1_110)).toBe(1_002); // a stall of 90 ms after the lease: still usable
    expect(book.remaining(1_119)).toBe(8);
    expect(book.remaining(1_120)).toBe(0); // lease end + grace: the unused slots are gone
    expect(book.take(1_120)).toBeUndefined();
  });

  it('queues a second lease behind the first', () => {
    const book = new LeaseBook(0);
    book.add(1_020, size);
    book.add(1_000, size);
    const slots = Array.from({ length: 20 }, () => book.take(1_000));
    expect(slots).toEqual([...Array.from({ length: 10 }, (_, i) => 1_000 + 2 * i), ...Array.from({ length: 10 }, (_, i) => 1_020 + 2 * i)]);
    expect(book.take(1_000)).toBeUndefined();
  });
});
