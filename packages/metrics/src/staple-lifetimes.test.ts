import { describe, expect, it } from 'vitest';
import { StapleLifetimes } from './staple-lifetimes.js';

const HOUR = 3_600_000;

describe('StapleLifetimes', () => {
  const now = Date.UTC(2026, 0, 10);
  const lifetimes = new StapleLifetimes([
    new Date(now + 50 * HOUR),
    now + 2 * HOUR,
    now - 1 * HOUR, // overdue: its key has expired in Redis, the metadata still says so
    now + 2 * HOUR,
    new Date(now + 160 * HOUR),
  ]);

  it('gives the seconds until the soonest nextUpdate, negative when overdue', () => {
    expect(lifetimes.soonestExpirySeconds(now)).toBe(-3_600);
    expect(lifetimes.soonestExpirySeconds(now - 2 * HOUR)).toBe(3_600);
  });

  it('is +Inf with no staple stored, so expiry alerts stay quiet', () => {
    expect(new StapleLifetimes([]).soonestExpirySeconds(now)).toBe(Number.POSITIVE_INFINITY);
  });

  it('counts staples expiring within a window, boundaries included', () => {
    expect(lifetimes.countExpiringWithin(0, now)).toBe(1);
    expect(lifetimes.countExpiringWithin(2 * 3_600, now)).toBe(3);
    expect(lifetimes.countExpiringWithin(50 * 3_600 - 1, now)).toBe(3);
    expect(lifetimes.countExpiringWithin(50 * 3_600, now)).toBe(4);
    expect(lifetimes.countExpiringWithin(7 * 24 * 3_600, now)).toBe(5);
    expect(lifetimes.size).toBe(5);
  });

  it('counts more staples as time passes, without a new snapshot', () => {
    expect(lifetimes.countExpiringWithin(3_600, now)).toBe(1);
    expect(lifetimes.countExpiringWithin(3_600, now + HOUR)).toBe(3);
  });
});
