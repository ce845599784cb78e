import { describe, expect, it } from 'vitest';
import { BoundedCache } from './bounded-cache.js';

describe('BoundedCache', () => {
  it('computes once per key and evicts the least recently used entry', () => {
    const cache = new BoundedCache<string, number>(2);
    let computed = 0;
    const get = (key: string): number => cache.getOrCompute(key, () => ++computed);
    expect([get('a'), get('b'), get('a')]).toEqual([1, 2, 1]);
    get('c'); // evicts b, the least recently used
    expect(cache.size).toBe(2);
    expect(get('a')).toBe(1);
    expect(get('b')).toBe(4);
  });

  it('stores nothing when compute throws', () => {
    const cache = new BoundedCache<string, number>(2);
    expect(() =>
      cache.getOrCompute('x', () => {
        throw new Error('no');
      }),
    ).toThrow('no');
    expect(cache.size).toBe(0);
  });

  it('rejects a non-positive bound', () => {
    expect(() => new BoundedCache(0)).toThrow(RangeError);
  });
});
