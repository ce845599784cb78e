/**
 * A bounded map whose entries expire: the relay's memory in front of Redis. The clock is passed in.
 * When full, the oldest insertion goes first; entries live at most their TTL anyway, so a plain
 * insertion order is enough and a hit costs one Map lookup.
 */
export class MemoryCache<V> {
  private readonly entries = new Map<string, { value: V; until: number }>();

  constructor(private readonly maxEntries: number) {}

  get size(): number {
    return this.entries.size;
  }

  /** The value, or undefined when absent or expired at `now` (an expired entry is dropped). */
  get(key: string, now: number): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.until <= now) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  /** Keeps `value` until `until` (epoch ms); an `until` not after `now` stores nothing. */
  set(key: string, value: V, until: number, now: number): void {
    if (until <= now || this.maxEntries <= 0) return;
    this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(key, { value, until });
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }
}

/** Runs one `work` per key at a time: callers that ask for a key already in flight share its promise. */
export class SingleFlight<V> {
  private readonly inFlight = new Map<string, Promise<V>>();

  get size(): number {
    return this.inFlight.size;
  }

  run(key: string, work: () => Promise<V>): Promise<V> {
    const running = this.inFlight.get(key);
    if (running) return running;
    const started = work().finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, started);
    return started;
  }
}
