import { EventEmitter } from 'node:events';
import { Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { QUEUE_DEFAULTS } from '../defaults.js';
import { retryDelay, type BackoffPolicy } from '../jobs/backoff.js';
import { StapleJobError } from '../jobs/errors.js';
import { hostQueueName } from '../jobs/host-queues.js';
import { isBatchData, type QueuedJobData, type QueuedJobResult } from '../jobs/job.js';
import { StapleQueue } from '../jobs/queue.js';
import { HostLimiter } from '../hosts/host-limiter.js';
import type { HostRatePolicy } from '../hosts/host-rate.js';
import { hostShares } from '../hosts/shares.js';
import { StapleJobRunner } from './job-runner.js';
import { JobsTaken } from './jobs-taken.js';
import type { StapleDeps } from './process.js';

export interface StaplePoolOptions {
  /** ioredis connection (BullMQ duplicates it for its blocking reads). Needs maxRetriesPerRequest: null. */
  connection: Redis;
  /** BullMQ key prefix, shared by every process working the same fleet. */
  prefix: string;
  /**
   * Global ceiling, requests/s over every host and every process: when the budgets of the hosts
   * with work add up to more, it is shared out over them (hosts/shares.ts). 0 = none.
   * @defaultValue QUEUE_DEFAULTS.rate (0)
   */
  rate?: number;
  /** Requests/s of a host without its own `hostRates` entry. @defaultValue QUEUE_DEFAULTS.defaultHostRate (500) */
  defaultHostRate?: number;
  /** Per-responder-host budgets, requests/s, keyed by `host[:port]` (lowercase), shared by all processes. @defaultValue {} */
  hostRates?: Readonly<Record<string, number>>;
  /**
   * Certificates in flight per host queue in this process; the jobs taken at once follow from it
   * and the size of the jobs (jobs-taken.ts). @defaultValue QUEUE_DEFAULTS.concurrency (128)
   */
  concurrency?: number;
  /** Retries of failed attempts. @defaultValue { baseMs: QUEUE_DEFAULTS.retryBaseMs, maxMs: QUEUE_DEFAULTS.retryMaxMs } */
  backoff?: BackoffPolicy;
  /** Tuning of the reaction to 429 (pause, decrease, regrowth). */
  hostRatePolicy?: Partial<HostRatePolicy>;
  /** A limiter to use instead of the pool's own (tests; several pools in one process). Not closed with the pool. */
  hostLimiter?: HostLimiter;
  /** BullMQ job lock, ms: a dead worker's jobs come back after about this plus `stalledIntervalMs`. */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  /** How often new host queues are looked for and the ceiling re-divided, ms. */
  hostSyncMs?: number;
  /** A host queue with no job for this long is forgotten (its worker closed), ms. */
  hostIdleMs?: number;
  maxHostQueues?: number;
  deps: StapleDeps;
}

export interface StaplePoolEvents {
  completed: [job: Job<QueuedJobData, QueuedJobResult>, result: QueuedJobResult];
  failed: [job: Job<QueuedJobData, QueuedJobResult> | undefined, error: Error];
  error: [error: Error];
}

/**
 * The worker pool of one process: one BullMQ Worker per responder host queue (see
 * jobs/host-queues.ts), all sharing one HostLimiter, so a host that waits for its budget, is paused
 * after a 429 or stopped answering holds only its own jobs. The pool finds new host queues in the
 * shared registry every `hostSyncMs`, gives each host its share of the global ceiling, and forgets
 * hosts whose queues stayed empty for `hostIdleMs`.
 */
export class StaplePool extends EventEmitter<StaplePoolEvents> {
  readonly hostLimiter: HostLimiter;
  readonly queue: StapleQueue;
  private readonly workers = new Map<string, Worker<QueuedJobData, QueuedJobResult>>();
  private readonly runner: StapleJobRunner;
  private readonly settings: Required<
    Omit<StaplePoolOptions, 'hostLimiter' | 'hostRatePolicy' | 'hostRates' | 'deps' | 'connection' | 'prefix'>
  >;
  private readonly ownsLimiter: boolean;
  private timer: NodeJS.Timeout | undefined;
  private syncing: Promise<void> | undefined;
  private closing: Promise<void> | undefined;

  constructor(private readonly options: StaplePoolOptions) {
    super();
    const defined = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
    this.settings = {
      rate: QUEUE_DEFAULTS.rate,
      defaultHostRate: QUEUE_DEFAULTS.defaultHostRate,
      concurrency: QUEUE_DEFAULTS.concurrency,
      backoff: { baseMs: QUEUE_DEFAULTS.retryBaseMs, maxMs: QUEUE_DEFAULTS.retryMaxMs },
      lockDurationMs: QUEUE_DEFAULTS.lockDurationMs,
      stalledIntervalMs: QUEUE_DEFAULTS.stalledIntervalMs,
      hostSyncMs: QUEUE_DEFAULTS.hostSyncMs,
      hostIdleMs: QUEUE_DEFAULTS.hostIdleMs,
      maxHostQueues: QUEUE_DEFAULTS.maxHostQueues,
      ...defined,
    };
    const { deps } = options;
    this.hostLimiter =
      options.hostLimiter ??
      new HostLimiter({
        connection: options.connection,
        prefix: options.prefix,
        defaultHostRate: this.settings.defaultHostRate,
        hostRates: options.hostRates ?? {},
        policy: options.hostRatePolicy ?? {},
        // A job waiting for its host's slot holds only a slot of that host's own worker: no reason
        // to hand it back to the queue (the backlog limit protected other hosts in a shared queue).
        maxQueueMs: Infinity,
        now: deps.now,
        log: deps.log,
      });
    this.ownsLimiter = options.hostLimiter === undefined;
    this.queue = new StapleQueue({ connection: options.connection, prefix: options.prefix, maxHostQueues: this.settings.maxHostQueues });
    this.runner = new StapleJobRunner({
      deps,
      limiter: this.hostLimiter,
      certificatesInFlight: this.settings.concurrency,
      backoff: this.settings.backoff,
    });
  }

  /** Opens the workers of the host queues registered now, then keeps looking for new ones. */
  async start(): Promise<void> {
    await this.sync();
    this.timer = setInterval(() => void this.sync(), this.settings.hostSyncMs);
    this.timer.unref();
  }

  /** The hosts this process works now. */
  hosts(): string[] {
    return [...this.workers.keys()];
  }

  /**
   * One round: a worker for each registered host queue, the ceiling re-divided over the hosts with
   * work, idle hosts forgotten. Runs on its own timer; exposed for tests.
   */
  sync(): Promise<void> {
    this.syncing ??= this.syncOnce()
      .catch((err: unknown) => {
        this.options.deps.log.warn({ err }, 'worker pool: cannot read the host queues (retrying)');
      })
      .finally(() => {
        this.syncing = undefined;
      });
    return this.syncing;
  }

  /** Waits for the jobs in flight (unless `force`), then closes the host limiter it created. */
  close(force = false): Promise<void> {
    this.closing ??= (async () => {
      clearInterval(this.timer);
      await this.syncing;
      await Promise.all([...this.workers.values()].map((worker) => worker.close(force)));
      this.workers.clear();
      await this.queue.close();
      if (this.ownsLimiter) await this.hostLimiter.close();
    })();
    return this.closing;
  }

  private async syncOnce(): Promise<void> {
    if (this.closing) return;
    const hosts = await this.queue.hosts();
    const counts = await Promise.all(
      hosts.map((host) => this.queue.queueOf(host).getJobCounts('waiting', 'active', 'delayed', 'prioritized')),
    );
    const budgets = new Map<string, number>();
    const idle = new Set<string>();
    hosts.forEach((host, i) => {
      const c = counts[i] ?? {};
      // Delayed jobs (refreshes due in days, retries) do not share the ceiling: they are not sending.
      if ((c.waiting ?? 0) + (c.active ?? 0) + (c.prioritized ?? 0) > 0) budgets.set(host, this.hostLimiter.budget(host));
      if ((c.waiting ?? 0) + (c.active ?? 0) + (c.prioritized ?? 0) + (c.delayed ?? 0) === 0) idle.add(host);
    });
    this.hostLimiter.setShares(hostShares(budgets, this.settings.rate), this.settings.rate);
    // A new host's worker starts once the share-out includes it.
    for (const host of hosts) if (!this.workers.has(host)) await this.open(host);
    const forgotten = await this.queue.registry.forgetIdle(this.settings.hostIdleMs, (host) => Promise.resolve(idle.has(host)));
    const registered = new Set([...hosts.filter((host) => !forgotten.includes(host))]);
    for (const [host, worker] of this.workers) {
      if (registered.has(host)) continue;
      this.workers.delete(host);
      await worker.close();
    }
  }

  private async open(host: string): Promise<void> {
    const policy = this.settings.backoff;
    // A job may be a batch: the jobs taken at once follow their size (jobs-taken.ts).
    const jobsTaken = new JobsTaken(this.settings.concurrency, QUEUE_DEFAULTS.batchSize);
    const worker: Worker<QueuedJobData, QueuedJobResult> = new Worker<QueuedJobData, QueuedJobResult>(
      hostQueueName(host),
      (job, token) => {
        worker.concurrency = jobsTaken.taken(isBatchData(job.data) ? job.data.targets.length : 1);
        return this.runner.run(job, token);
      },
      {
        connection: this.options.connection,
        prefix: this.options.prefix,
        concurrency: jobsTaken.jobs,
        lockDuration: this.settings.lockDurationMs,
        stalledInterval: this.settings.stalledIntervalMs,
        removeOnComplete: { count: 0 },
        removeOnFail: { count: 0 },
        settings: {
          backoffStrategy: (attemptsMade: number, _type?: string, err?: Error) =>
            retryDelay(attemptsMade, policy, Math.random, err instanceof StapleJobError ? err.retryAfterMs : undefined),
        },
      },
    );
    worker.on('completed', (job, result) => this.emit('completed', job, result));
    worker.on('failed', (job, err) => this.emit('failed', job, err));
    // An 'error' event without a listener would throw: report to the log when nobody listens.
    worker.on('error', (err) => {
      if (this.listenerCount('error') > 0) this.emit('error', err);
      else this.options.deps.log.error({ err, host }, 'worker pool: queue error');
    });
    this.workers.set(host, worker);
    await worker.waitUntilReady();
  }
}
