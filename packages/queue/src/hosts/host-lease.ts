import Bottleneck from 'bottleneck';
import type { Redis } from 'ioredis';

/**
 * The shared per-host budget: one Bottleneck limiter per responder host (a Bottleneck Group keyed by
 * host) with the Redis datastore, so every worker process on every machine draws from the same
 * budget. Each Bottleneck job is a lease of a few requests (see lease-book.ts), not a single request:
 * Bottleneck's cluster mode costs three Lua calls per job and managed about 400 jobs/s from one
 * process on this 2-core machine, below the 500 req/s a single CA accepts. With leases of ~20 ms it
 * makes ~50 calls a second per host whatever the rate.
 *
 * Bottleneck's `minTime` (the spacing of jobs, kept in Redis) is the length of a lease, so leases
 * across all processes follow one another and together spend exactly the host's rate.
 */
export class HostLeases {
  private readonly connection: Bottleneck.IORedisConnection;
  private readonly group: Bottleneck.Group;
  /** The lease length last written to each host's shared settings by this process. */
  private readonly spans = new Map<string, number>();
  private closed = false;

  /**
   * @param client - a connection Bottleneck may own (it defines its scripts on it, subscribes with a
   *   duplicate, and quits both on close): pass `redis.duplicate()`.
   * @param id - Group id; keys are `b_<id>-<host>_*`, expiring after 5 minutes without use.
   */
  constructor(
    client: Redis,
    id: string,
    onError: (err: unknown) => void,
    private readonly timeoutMs = 30_000,
  ) {
    // After close, Bottleneck may still try to free the last lease: nothing to report then.
    const report = (err: unknown): void => {
      if (!this.closed) onError(err);
    };
    this.connection = new Bottleneck.IORedisConnection({ client });
    this.connection.on('error', report);
    this.group = new Bottleneck.Group({ datastore: 'ioredis', connection: this.connection, id, clearDatastore: false });
    this.group.on('created', (limiter: Bottleneck) => limiter.on('error', report));
  }

  /**
   * Reserves the next lease of `spanMs` for `host`; resolves at its start (the time `now` returns
   * then), which may be later than the call when other processes hold the leases before it.
   */
  async lease(host: string, spanMs: number, now: () => number): Promise<number> {
    const limiter = this.group.key(host);
    const last = this.spans.get(host);
    if (last === undefined || Math.abs(last - spanMs) > 0.02 * spanMs) {
      this.spans.set(host, spanMs);
      // bottleneck.d.ts types updateSettings as synchronous; it is async (a Redis script in cluster mode).
      await (limiter.updateSettings({ minTime: spanMs }) as unknown as Promise<Bottleneck>);
    }
    // A failed Redis script leaves a Bottleneck job queued for ever (it only emits 'error'): give up
    // after a while so the job fails and retries rather than holding a worker slot.
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new HostLeaseError(`no lease for ${host} within ${this.timeoutMs} ms`)), this.timeoutMs);
    });
    try {
      return await Promise.race([limiter.schedule(() => Promise.resolve(now())), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Forgets what this process wrote to the host's shared settings (the limiter is not in use any
   * more). Bottleneck's Group drops its own limiter, and the Redis keys, after 5 minutes unused.
   */
  forget(host: string): void {
    this.spans.delete(host);
  }

  /**
   * Quits Bottleneck's Redis connections (a lease still pending then fails). Resolves once both are
   * closed, and never rejects because they closed: the subscriber's QUIT rejects with "Connection
   * is closed." when a host's limiter created just before sends its SUBSCRIBE after it, though the
   * connection does close. That failed a worker pool's close in CI.
   */
  async close(): Promise<void> {
    this.closed = true;
    // disconnect(false) drops whatever a failed QUIT may have left open.
    await this.connection.disconnect(true).catch(() => this.connection.disconnect(false));
  }
}

/** A lease did not come: Bottleneck's Redis scripts failed (see the logged error) or Redis is unreachable. */
export class HostLeaseError extends Error {
  override readonly name = 'HostLeaseError';
  readonly code = 'host-lease-timeout';
}
