import type { Redis } from 'ioredis';
import { DEFAULT_HOST_BOUNDS, hostsToEvict, type HostBounds } from './host-eviction.js';
import { DEFAULT_HOST_HEALTH_POLICY, HostHealth, type HostHealthPolicy } from './host-health.js';
import { HostLeases } from './host-lease.js';
import { HostPacer } from './host-pacer.js';
import { DEFAULT_HOST_RATE_POLICY, afterRateLimited, hostRateAt, type HostRatePolicy } from './host-rate.js';
import { HostStateStore, type VersionedHostState } from './host-state.js';
import { InFlightGate } from './in-flight.js';
import { QUEUE_DEFAULTS } from '../defaults.js';
import { silentLogger, type StapleLogger } from '../jobs/job.js';
import { leaseSize } from './lease-book.js';
import { RateMeter } from './rate-meter.js';

export interface HostLimiterOptions {
  /** A connection to share for state reads and writes; Bottleneck gets its own duplicates. */
  connection: Redis;
  /** BullMQ key prefix: state in `<prefix>:hosts:<host>`, Bottleneck keys `b_<prefix>:hosts-<host>_*`. */
  prefix: string;
  /** Requests/s of a host without its own entry in `hostRates`; 0 = unlimited. @defaultValue QUEUE_DEFAULTS.defaultHostRate (500) */
  defaultHostRate?: number;
  /** Requests/s per responder host (`host[:port]`, lowercase). */
  hostRates?: Readonly<Record<string, number>>;
  policy?: Partial<HostRatePolicy>;
  /** When a host counts as down (local to this process). */
  health?: Partial<HostHealthPolicy>;
  /** How often the shared state of active hosts is re-read. @defaultValue 200 */
  syncIntervalMs?: number;
  /** Longest local queue for a host, in time at its rate, before jobs are handed back. @defaultValue 500 */
  maxQueueMs?: number;
  /**
   * Requests in flight to one host in this process, at most: below the worker's concurrency, so a
   * host that hangs cannot take every slot. A request over it waits up to `busyWaitMs` for one of
   * them to end (a healthy host ends one every few ms), else it is handed back for `busyRetryMs`.
   * @defaultValue Infinity
   */
  maxInFlight?: number;
  /** @defaultValue 250 */
  busyWaitMs?: number;
  /** @defaultValue 1000 */
  busyRetryMs?: number;
  /**
   * Responder hosts this process keeps state for: idle ones are forgotten, and past `maxHosts` the
   * least recently used (see host-eviction.ts). @defaultValue 10 minutes idle, 1000 hosts
   */
  bounds?: Partial<HostBounds>;
  now?: () => number;
  random?: () => number;
  log?: StapleLogger;
}

/**
 * `granted`: send now. Otherwise the host cannot take the request before `until` (epoch ms):
 * `paused` after a 429, `backlog` when its local queue is full, `busy` when it holds its share of
 * this process's requests in flight, `down` when it stopped answering.
 */
/** The limiter's tunables with their defaults, resolved once in the constructor. */
const LIMITER_DEFAULTS = { syncIntervalMs: 200, maxQueueMs: 500, maxInFlight: Infinity, busyWaitMs: 250, busyRetryMs: 1_000 };

export type HostPermit = { granted: true } | { granted: false; until: number; reason: 'paused' | 'backlog' | 'busy' | 'down' };

const GRANTED: HostPermit = { granted: true };

interface HostEntry {
  host: string;
  shared: VersionedHostState;
  /** Bumped whenever this process sets `shared` itself, so a read started earlier cannot undo it. */
  updates: number;
  pacer: HostPacer;
  health: HostHealth;
  inFlight: InFlightGate;
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
  private readonly healthPolicy: HostHealthPolicy;
  private readonly bounds: HostBounds;
  private readonly tuning: typeof LIMITER_DEFAULTS;
  private readonly defaultHostRate: number;
  /** Each host's share of the global ceiling (see shares.ts), set by the worker pool. */
  private shares: ReadonlyMap<string, number> = new Map();
  /**
   * The global ceiling itself (Infinity: none): the cap of a host the last shares did not include
   * (its first jobs came after them). Uncapped until the next share-out, such a host ran at its own
   * budget: a worker under `--rate 100` sent bursts of 129-340 requests in a second.
   */
  private ceiling = Infinity;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly log: StapleLogger;
  private readonly timer: NodeJS.Timeout;
  private syncing: Promise<void> | undefined;
  private closing: Promise<void> | undefined;

  constructor(private readonly options: HostLimiterOptions) {
    this.policy = { ...DEFAULT_HOST_RATE_POLICY, ...options.policy };
    this.healthPolicy = { ...DEFAULT_HOST_HEALTH_POLICY, ...options.health };
    this.bounds = { ...DEFAULT_HOST_BOUNDS, ...options.bounds };
    this.tuning = { ...LIMITER_DEFAULTS, ...definedOnly(options) };
    const defaultHostRate = options.defaultHostRate ?? QUEUE_DEFAULTS.defaultHostRate;
    this.defaultHostRate = defaultHostRate > 0 ? defaultHostRate : Infinity;
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.log = options.log ?? silentLogger;
    this.store = new HostStateStore(options.connection, options.prefix);
    // Bottleneck waits for 'ready' without sending a command: a lazyConnect duplicate would never connect.
    this.leases = new HostLeases(options.connection.duplicate({ lazyConnect: false }), `${options.prefix}:hosts`, (err) =>
      this.log.error({ err }, 'host limiter: Bottleneck error'),
    );
    // Other processes' 429s reach this one at the next sync, at most syncIntervalMs later.
    this.timer = setInterval(() => void this.sync(), this.tuning.syncIntervalMs).unref();
  }

  /** The host's own budget, requests/s: its `hostRates` entry, else the default host rate (Infinity: none). */
  budget(host: string): number {
    return this.options.hostRates?.[host] ?? this.defaultHostRate;
  }

  /**
   * Sets each host's share of the global ceiling, requests/s (`ceiling` 0 or Infinity: none). A host
   * not in the map is capped at the whole ceiling until the next call.
   */
  setShares(shares: ReadonlyMap<string, number>, ceiling: number): void {
    this.shares = shares;
    this.ceiling = ceiling > 0 ? ceiling : Infinity;
  }

  /** The host's budget now: its own, capped by its share of the global ceiling. */
  maxRate(host: string): number {
    return Math.min(this.budget(host), this.shares.get(host) ?? this.ceiling);
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
   * Waits for the host's next request slot (and a place among its requests in flight). Refuses, with
   * the time to come back, when the host is paused, when its local queue is already longer than
   * `maxQueueMs` of its rate or its requests in flight do not end (the job should go back to the
   * queue rather than hold a worker slot), or when it stopped answering. Each granted request must
   * be followed by `answered` or `unanswered`.
   */
  async acquire(host: string): Promise<HostPermit> {
    const entry = this.entry(host);
    const now = this.now();
    const paused = this.pausedPermit(entry, now);
    if (paused) return paused;
    const rate = hostRateAt(entry.shared.state, this.maxRate(host), now, this.policy);
    if (rate === Infinity) return this.admit(entry);
    const size = leaseSize(rate);
    const maxWaiting = Math.max(2 * size.count, Math.ceil((rate * this.tuning.maxQueueMs) / 1000));
    if (entry.pacer.waiting >= maxWaiting) {
      return { granted: false, until: now + (entry.pacer.waiting + this.random() * size.count) * size.intervalMs, reason: 'backlog' };
    }
    await entry.pacer.slot(size);
    return this.pausedPermit(entry, this.now()) ?? this.admit(entry);
  }

  /** A granted request to `host` got an answer (any HTTP status, 429 included): the host is up. */
  answered(host: string): void {
    const entry = this.entry(host);
    entry.inFlight.leave();
    entry.health.succeeded();
  }

  /**
   * A granted request to `host` was not sent after all (the address policy refused its address):
   * frees its place among the requests in flight without judging the host's health.
   */
  released(host: string): void {
    this.entry(host).inFlight.leave();
  }

  /** Responder hosts this process holds state for now (bounded, see `bounds`). */
  get trackedHosts(): number {
    return this.hosts.size;
  }

  /** A granted request to `host` got no answer (timeout, refused, reset). */
  unanswered(host: string): void {
    const entry = this.entry(host);
    entry.inFlight.leave();
    const openedUntil = entry.health.failed(this.now());
    if (openedUntil > 0) {
      this.log.warn(
        { host, until: new Date(openedUntil).toISOString() },
        `responder ${host} is not answering: failing its jobs at once for a while`,
      );
    }
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

  /** Forgets idle hosts (and the least recently used past `maxHosts`), then re-reads the shared state of the hosts used in the last minute. */
  async sync(): Promise<void> {
    this.prune();
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
      entry = {
        host,
        shared: { state: undefined, version: 0 },
        updates: 0,
        pacer: new HostPacer(host, this.leases, this.now),
        health: new HostHealth(this.healthPolicy, this.random),
        inFlight: new InFlightGate(this.tuning.maxInFlight),
        sent: new RateMeter(),
        lastUsed: this.now(),
      };
      this.hosts.set(host, entry);
      if (this.hosts.size > this.bounds.maxHosts) this.prune();
      // A host seen for the first time may already be paused by another process.
      void this.sync();
    }
    entry.lastUsed = this.now();
    return entry;
  }

  /** Drops the state of hosts nobody needs (see host-eviction.ts). */
  private prune(): void {
    const now = this.now();
    const uses = [...this.hosts.values()].map((entry) => ({
      host: entry.host,
      lastUsed: entry.lastUsed,
      busy:
        entry.inFlight.inFlight > 0 || !entry.pacer.idle || (entry.shared.state?.pausedUntil ?? 0) > now || entry.health.openedUntil > now,
    }));
    for (const host of hostsToEvict(uses, now, this.bounds)) {
      this.hosts.delete(host);
      this.leases.forget(host);
    }
  }

  private setShared(entry: HostEntry, shared: VersionedHostState): void {
    entry.shared = shared;
    entry.updates++;
  }

  /**
   * Last checks before sending: the host's share of requests in flight (waiting a little for one to
   * end), then its health (a host that stopped answering gets no request, but one probe).
   */
  private async admit(entry: HostEntry): Promise<HostPermit> {
    if (!(await entry.inFlight.enter(this.tuning.busyWaitMs))) {
      return { granted: false, until: this.now() + this.tuning.busyRetryMs * (1 + this.random() / 2), reason: 'busy' };
    }
    const now = this.now();
    const down = entry.health.blockedUntil(now);
    if (down !== undefined) {
      entry.inFlight.leave();
      return { granted: false, until: down, reason: 'down' };
    }
    entry.sent.record(now);
    return GRANTED;
  }

  private pausedPermit(entry: HostEntry, now: number): HostPermit | undefined {
    const until = entry.shared.state?.pausedUntil ?? 0;
    return until > now ? { granted: false, until, reason: 'paused' } : undefined;
  }
}

/** The tunables the caller set (undefined fields keep their default). */
function definedOnly(options: HostLimiterOptions): Partial<typeof LIMITER_DEFAULTS> {
  const picked: Partial<typeof LIMITER_DEFAULTS> = {};
  for (const key of Object.keys(LIMITER_DEFAULTS) as (keyof typeof LIMITER_DEFAULTS)[]) {
    const value = options[key];
    if (value !== undefined) picked[key] = value;
  }
  return picked;
}
