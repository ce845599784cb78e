import { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { DEFAULT_BACKOFF, retryDelay, type BackoffPolicy } from '../jobs/backoff.js';
import { StapleJobError } from '../jobs/errors.js';
import { HostLimiter } from '../hosts/host-limiter.js';
import type { HostRatePolicy } from '../hosts/host-rate.js';
import { STAPLE_QUEUE, type StapleJobData, type StapleJobResult } from '../jobs/job.js';
import { StapleJobRunner } from './job-runner.js';
import type { StapleDeps } from './process.js';

export interface StapleWorkerOptions {
  /** ioredis connection (BullMQ duplicates it for its blocking reads). Needs maxRetriesPerRequest: null. */
  connection: Redis;
  /** BullMQ key prefix, shared by every process working the same fleet. */
  prefix: string;
  /**
   * Global fetch budget, requests per second, shared by every worker process through Redis
   * (BullMQ's queue limiter); every process must use the same value. It is also the budget of each
   * responder host that has none of its own. 0 disables it. @defaultValue 500
   */
  rate?: number;
  /**
   * Per-responder-host budgets, requests/s, keyed by `host[:port]` (lowercase): shared by all
   * processes (Bottleneck with the Redis datastore), capped by `rate`. @defaultValue {}
   */
  hostRates?: Readonly<Record<string, number>>;
  /**
   * Jobs in flight in this process. Reaching `rate` needs rate × responder latency in flight (500/s
   * at 20-100 ms: 10-50) plus the up to rate / 10 jobs a 100 ms window of the global limiter hands
   * out at once, which wait for their slot in the host limiter (50 at 500/s): 128 covers 500/s at up
   * to 100 ms in one process (measured: 64 reached 258/s there, 128 431/s). @defaultValue 128
   */
  concurrency?: number;
  backoff?: BackoffPolicy;
  /** Tuning of the reaction to 429 (pause, decrease, regrowth). */
  hostRatePolicy?: Partial<HostRatePolicy>;
  /** A limiter to use instead of the worker's own (tests; several workers in one process). Not closed with the worker. */
  hostLimiter?: HostLimiter;
  deps: StapleDeps;
  /** Start taking jobs at once. @defaultValue true */
  autorun?: boolean;
}

/**
 * The worker pool of one process. Each job: acquire the responder host's budget, then fetch → verify
 * → store (see StapleJobRunner). `close()` also closes the host limiter it created.
 */
export class StapleWorker extends Worker<StapleJobData, StapleJobResult> {
  readonly hostLimiter: HostLimiter;
  private readonly ownsLimiter: boolean;

  constructor(options: StapleWorkerOptions) {
    const { deps } = options;
    const policy = options.backoff ?? DEFAULT_BACKOFF;
    const rate = options.rate ?? 500;
    const concurrency = options.concurrency ?? 128;
    const limiter =
      options.hostLimiter ??
      new HostLimiter({
        connection: options.connection,
        prefix: options.prefix,
        globalRate: rate,
        hostRates: options.hostRates ?? {},
        policy: options.hostRatePolicy ?? {},
        // A quarter of the slots (up to 16) stay for other hosts: one that hangs cannot take them all.
        maxInFlight: Math.max(1, concurrency - Math.min(16, Math.floor(concurrency / 4))),
        now: deps.now,
        log: deps.log,
      });
    const runner = new StapleJobRunner({ deps, limiter });
    super(STAPLE_QUEUE, (job, token) => runner.run(job, token), {
      connection: options.connection,
      prefix: options.prefix,
      concurrency,
      autorun: options.autorun ?? true,
      // Spread the budget over 10 windows a second: a whole second's worth at once would hit the
      // responder as a burst far above its steady rate. (The host limiter then spaces requests evenly.)
      ...(rate > 0 ? { limiter: limiterFor(rate) } : {}),
      removeOnComplete: { count: 0 },
      removeOnFail: { count: 0 },
      settings: {
        backoffStrategy: (attemptsMade: number, _type?: string, err?: Error) =>
          retryDelay(attemptsMade, policy, Math.random, err instanceof StapleJobError ? err.retryAfterMs : undefined),
      },
    });
    this.hostLimiter = limiter;
    this.ownsLimiter = options.hostLimiter === undefined;
  }

  /** Waits for the jobs in flight (unless `force`), then closes the host limiter it created. */
  override async close(force = false): Promise<void> {
    await super.close(force);
    if (this.ownsLimiter) await this.hostLimiter.close();
  }
}

/** Starts the worker pool of this process (kept for callers of the original API). */
export function createStapleWorker(options: StapleWorkerOptions): StapleWorker {
  return new StapleWorker(options);
}

/** BullMQ limiter windows for a requests-per-second budget: 100 ms windows when the rate allows. */
export function limiterFor(rate: number): { max: number; duration: number } {
  if (rate >= 10 && Number.isInteger(rate / 10)) return { max: rate / 10, duration: 100 };
  return { max: Math.max(1, Math.round(rate)), duration: 1000 };
}
