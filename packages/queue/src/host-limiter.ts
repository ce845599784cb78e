import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { HostLeases } from './host-lease.js';
import { DEFAULT_HOST_RATE_POLICY, afterRateLimited, hostRateAt, type HostRatePolicy } from './host-rate.js';
import { HostStateStore, type VersionedHostState } from './host-state.js';
import { silentLogger, type StapleLogger } from './job.js';
import { LeaseBook, leaseSize, type LeaseSize } from './lease-book.js';
import { RateMeter } from './rate-meter.js';

export interface HostLimiterOptions {
  /** A connection to share for state reads and writes; Bottleneck gets its own duplicates. */
  connection: Redis;
  /** BullMQ key prefix: state in `<prefix>:hosts:<host>`, Bottleneck keys `b_<prefix>:hosts-<host>_*`. */
  prefix: string;
  /** Global requests/s (the budget of hosts without their own); 0 = none. @defaultValue 0 */
  globalRate?: number;
  /** Requests/s per responder host (`host[:port]`, lowercase), capped by the global rate. */
  hostRates?: Readonly<Record<string, number>>;
  policy?: Partial<HostRatePolicy>;
  /** How often the shared state of active hosts is re-read. @defaultValue 200 */
  syncIntervalMs?: number;
  /** Longest local queue for a host, in time at its rate, before jobs are handed back. @defaultValue 500 */
  maxQueueMs?: number;
  now?: () => number;
  random?: () => number;
  log?: StapleLogger;
}

/** `granted`: send now. Otherwise the host cannot take the request before `until` (epoch ms). */
export type HostPermit = { granted: true } | { granted: false; until: number; reason: 'paused' | 'backlog' };

const GRANTED: HostPermit = { granted: true };

interface HostEntry {
  host: string;
  shared: VersionedHostState;
  /** Bumped whenever this process sets `shared` itself, so a read started earlier cannot undo it. */
  updates: number;
  book: LeaseBook;
  leasing: Promise<void> | undefined;
  waiting: number;
  sent: RateMeter;
  lastUsed: number;
}

/**
 * The per-responder-host budget and 429 pauses, shared by every worker process through Redis:
 * `acquire(host)` before each request, `rateLimited(host, ...)` after a 429. Hosts are independent,
 * so a host that is paused or slow never delays another host's requests.
 */
export class HostLimiter {
  private readonly hosts = new Map<string, HostEntry>();
  private readonly store: HostStateStore;
  private readonly leases: HostLeases;
  private readonly policy: HostRatePolicy;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly log: StapleLogger;
  private readonly timer: NodeJS.Timeout;
  private syncing: Promise<void> | undefined;
  private closing: Promise<void> | undefined;

  constructor(private readonly options: HostLimiterOptions) {
    this.policy = { ...DEFAULT_HOST_RATE_POLICY, ...options.policy };
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.log = options.log ?? silentLogger;
    this.store = new HostStateStore(options.connection, options.prefix);
    // Bottleneck waits for 'ready' without sending a command: a lazyConnect duplicate would never connect.
    this.leases = new HostLeases(options.connection.duplicate({ lazyConnect: false }), `${options.prefix}:hosts`, (err) =>
      this.log.error({ err }, 'host limiter: Bottleneck error'),
    );
    // Other processes' 429s reach this one at the next sync, at most syncIntervalMs later.
    this.timer = setInterval(() => void this.sync(), options.syncIntervalMs ?? 200).unref();
  }

  /** The host's budget: its own rate (capped by the global one), else the global rate, else none. */
  maxRate(host: string): number {
    const global = this.options.globalRate && this.options.globalRate > 0 ? this.options.globalRate : Infinity;
    return Math.min(this.options.hostRates?.[host] ?? Infinity, global);
  }

  /** The host's rate now, requests/s (Infinity: not limited). */
  rate(host: string): number {
    return hostRateAt(this.entry(host).shared.state, this.maxRate(host), this.now(), this.policy);
  }

  /** When the host may be asked again, epoch ms (0 when never paused). */
  pausedUntil(host: string): number {
    return this.entry(host).shared.state?.pausedUntil ?? 0;
  }

  /**
   * Waits for the host's next request slot. Refuses at once, with the time to come back, when the
   * host is paused or when its local queue is already longer than `maxQueueMs` of its rate (the job
   * should go back to the queue rather than hold a worker slot).
   */
  async acquire(host: string): Promise<HostPermit> {
    const entry = this.entry(host);
    const now = this.now();
    const paused = this.pausedPermit(entry, now);
    if (paused) return paused;
    const rate = hostRateAt(entry.shared.state, this.maxRate(host), now, this.policy);
    if (rate === Infinity) {
      entry.sent.record(now);
      return GRANTED;
    }
    const size = leaseSize(rate);
    const maxWaiting = Math.max(2 * size.count, Math.ceil((rate * (this.options.maxQueueMs ?? 500)) / 1000));
    if (entry.waiting >= maxWaiting) {
      return { granted: false, until: now + (entry.waiting + this.random() * size.count) * size.intervalMs, reason: 'backlog' };
    }
    entry.waiting++;
    try {
      await this.slot(entry, size);
    } finally {
      entry.waiting--;
    }
    const sentAt = this.now();
    const late = this.pausedPermit(entry, sentAt);
    if (late) return late;
    entry.sent.record(sentAt);
    return GRANTED;
  }

  /**
   * A request to `host` sent at `sentAt` was answered 429. Decides (pause, decrease) on the shared
   * state with compare-and-set; returns when the host may be asked again and how many seconds of
   * pause this 429 added (0 when another 429 of the same episode already decided).
   */
  async rateLimited(host: string, event: { sentAt: number; retryAfterMs?: number }): Promise<{ until: number; pausedMs: number }> {
    const entry = this.entry(host);
    for (let attempt = 0; attempt < 10; attempt++) {
      const now = this.now();
      const decision = afterRateLimited(
        entry.shared.state,
        { ...event, observedRate: entry.sent.perSecond(now) },
        { now, maxRate: this.maxRate(host), policy: this.policy, random: this.random },
      );
      if (!decision.next) return { until: entry.shared.state?.pausedUntil ?? now, pausedMs: 0 };
      const result = await this.store.compareAndSet(host, entry.shared.version, decision.next);
      if (result.stored) {
        const newEpisode = entry.shared.state?.episodes !== decision.next.episodes || entry.shared.state.rate !== decision.next.rate;
        this.setShared(entry, { state: decision.next, version: result.version });
        if (newEpisode) {
          this.log.warn(
            { host, pausedMs: Math.round(decision.pausedMs), rate: Math.round(decision.next.rate), retryAfterMs: event.retryAfterMs },
            `responder ${host} answered 429: pausing it, then resuming at ${Math.round(decision.next.rate)} req/s`,
          );
        }
        return { until: decision.next.pausedUntil, pausedMs: decision.pausedMs };
      }
      this.setShared(entry, result.current);
    }
    return { until: entry.shared.state?.pausedUntil ?? this.now(), pausedMs: 0 };
  }

  /** Re-reads the shared state of the hosts used in the last minute. */
  async sync(): Promise<void> {
    this.syncing ??= (async () => {
      const cutoff = this.now() - 60_000;
      const active = [...this.hosts.values()].filter((entry) => entry.lastUsed >= cutoff);
      const updates = active.map((entry) => entry.updates);
      try {
        const states = await this.store.read(active.map((entry) => entry.host));
        active.forEach((entry, i) => {
          const fresh = states[i];
          if (fresh && entry.updates === updates[i] && fresh.version !== entry.shared.version) entry.shared = fresh;
        });
      } catch (err) {
        this.log.warn({ err }, 'host limiter: cannot read the shared host state');
      } finally {
        this.syncing = undefined;
      }
    })();
    return this.syncing;
  }

  /** Stops syncing and closes Bottleneck's connections (once). Call when no acquire is pending. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      clearInterval(this.timer);
      await this.syncing;
      await this.leases.close();
    })();
    return this.closing;
  }

  private entry(host: string): HostEntry {
    let entry = this.hosts.get(host);
    if (!entry) {
      entry = { host, shared: { state: undefined, version: 0 }, updates: 0, book: new LeaseBook(), leasing: undefined, waiting: 0, sent: new RateMeter(), lastUsed: this.now() };
      this.hosts.set(host, entry);
      // A host seen for the first time may already be paused by another process.
      void this.sync();
    }
    entry.lastUsed = this.now();
    return entry;
  }

  private setShared(entry: HostEntry, shared: VersionedHostState): void {
    entry.shared = shared;
    entry.updates++;
  }

  private pausedPermit(entry: HostEntry, now: number): HostPermit | undefined {
    const until = entry.shared.state?.pausedUntil ?? 0;
    return until > now ? { granted: false, until, reason: 'paused' } : undefined;
  }

  /** Waits for a slot of a lease, leasing more (one lease at a time, shared by all waiters) when out. */
  private async slot(entry: HostEntry, size: LeaseSize): Promise<void> {
    for (;;) {
      const at = entry.book.take(this.now());
      if (at !== undefined) {
        // Reserve the next lease before this one runs out, so the Redis round trip never stalls sending.
        if (entry.book.remaining(this.now()) < size.count / 2) this.lease(entry, size).catch(() => {});
        const wait = at - this.now();
        if (wait > 0) await sleep(wait);
        return;
      }
      await this.lease(entry, size);
    }
  }

  private lease(entry: HostEntry, size: LeaseSize): Promise<void> {
    entry.leasing ??= this.leases
      .lease(entry.host, size.spanMs, this.now)
      .then((start) => entry.book.add(start, size))
      .finally(() => {
        entry.leasing = undefined;
      });
    return entry.leasing;
  }
}
