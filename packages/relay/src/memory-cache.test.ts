import { describe, expect, it } from 'vitest';
import { MemoryCache, SingleFlight } from './memory-cache.js';

describe('MemoryCache', () => {
  it('keeps a value until its time, by the clock passed in', () => {
    const cache = new MemoryCache<string>(10);
    cache.set('a', 'A', 1_000, 0);
    expect(cache.get('a', 999)).toBe('A');
    expect(cache.get('a', 1_000)).toBeUndefined();
    expect(cache.size).toBe(0); // dropped on the expired read
  });

  it('stores nothing already expired, and drops the oldest insertion when full', () => {
    const cache = new MemoryCache<number>(2);
    cache.set('past', 0, 5, 5);
    expect(cache.get('past', 0)).toBeUndefined();
    cache.set('a', 1, 100, 0);
    cache.set('b', 2, 100, 0);
    cache.set('a', 3, 100, 0); // a rewrite counts as the newest
    cache.set('c', 4, 100, 0);
    expect([cache.get('a', 1), cache.get('b', 1), cache.get('c', 1)]).toEqual([3, undefined, 4]);
    expect(cache.size).toBe(2);
  });
});

describe('SingleFlight', () => {
  it('runs one piece of work per key at a time and shares its result; the next call runs again', async () => {
    const flight = new SingleFlight<number>();
    let runs = 0;
    const work = async (): Promise<number> => {
      runs++;
      await new Promise((resolve) => setTimeout(resolve, 20));
      return runs;
    };
    const results = await Promise.all([flight.run('k', work), flight.run('k', work), flight.run('other', work)]);
    expect(results.slice(0, 2)).toEqual([results[0], results[0]]);
    expect(runs).toBe(2);
    expect(flight.size).toBe(0);
    await flight.run('k', work);
    expect(runs).toBe(3);
  });

  it('forgets a failed key, so the next call tries again', async () => {
    const flight = new SingleFlight<number>();
    await expect(flight.run('k', () => Promise.reject(new Error('down')))).rejects.toThrow('down');
    expect(await flight.run('k', () => Promise.resolve(1))).toBe(1);
  });
});
