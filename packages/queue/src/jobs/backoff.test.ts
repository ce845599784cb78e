import { describe, expect, it } from 'vitest';
import { DEFAULT_BACKOFF, retryDelay } from './backoff.js';

describe('retryDelay', () => {
  it('doubles per attempt with half of each step random', () => {
    expect(retryDelay(1, DEFAULT_BACKOFF, () => 0)).toBe(500);
    expect(retryDelay(1, DEFAULT_BACKOFF, () => 1)).toBe(1_000);
    expect(retryDelay(3, DEFAULT_BACKOFF, () => 0)).toBe(2_000);
    expect(retryDelay(3, DEFAULT_BACKOFF, () => 1)).toBe(4_000);
  });

  it('never exceeds the cap', () => {
    expect(retryDelay(30, DEFAULT_BACKOFF, () => 1)).toBe(DEFAULT_BACKOFF.maxMs);
  });

  it('waits at least as long as the server asked', () => {
    expect(retryDelay(1, DEFAULT_BACKOFF, () => 0, 7_000)).toBe(7_000);
    expect(retryDelay(5, DEFAULT_BACKOFF, () => 1, 100)).toBe(16_000);
  });

  it('spreads simultaneous failures', () => {
    let seed = 1;
    const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    const delays = new Set(Array.from({ length: 100 }, () => retryDelay(2, DEFAULT_BACKOFF, random)));
    expect(delays.size).toBeGreaterThan(50);
  });
});
