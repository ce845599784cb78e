/**
 * A Map with a size bound and least-recently-used eviction. Caches here hold derived data
 * (KeyObjects, delegated responder checks) that is cheap to recompute once but not per response.
 */
export class BoundedCache<K, V> {
  readonly #entries = new Map<K, V>();
  readonly #maxEntries: number;

  constructor(maxEntries: number) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError(`maxEntries must be a positive integer, got ${maxEntries}`);
    this.#maxEntries = maxEntries;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The cached value, or `compute(key)` stored and returned (a throwing compute stores nothing). */
  getOrCompute(key: K, compute: (key: K) => V): V {
    const entries = this.#entries;
    if (entries.has(key)) {
      const hit = entries.get(key) as V;
      // Re-insert so Map iteration order doubles as recency order.
      entries.delete(key);
      entries.set(key, hit);
      return hit;
    }
    const value = compute(key);
    entries.set(key, value);
    if (entries.size > this.#maxEntries) {
      const oldest = entries.keys().next();
      if (!oldest.done) entries.delete(oldest.value);
    }
    return value;
  }
}
