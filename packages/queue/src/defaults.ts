/**
 * Every default of the queue package, in one place. Constructors spread these under their options
 * (as BullMQ's Worker does); the CLI's settings table reads them through the light subpath export
 * `@staplewarm/queue/defaults` (no BullMQ load at start-up), so help texts and the README never
 * repeat a number.
 */
export const QUEUE_DEFAULTS = Object.freeze({
  /**
   * Global ceiling, requests/s over every responder host and every worker process; 0 = none. Each
   * host's own budget (`defaultHostRate`, `hostRates`) is what normally limits: the ceiling is
   * shared out over the hosts that have work when their budgets add up to more.
   */
  rate: 0,
  /** Requests/s for a responder host without its own `hostRates` entry: what one CA's origin takes. */
  defaultHostRate: 500,
  /**
   * Jobs in flight per host queue in one process: rate × (latency + overhead) plus room for the
   * limiter's lease: 500/s at 100 ms latency needs ~50 + 50.
   */
  concurrency: 128,
  /**
   * Certificates per job that a cold start (`warm`) enqueues, all of one host queue. A job's add,
   * take and finish are ~3 BullMQ scripts, most of Redis' work per certificate when each had its
   * own: 16 share them (docs/benchmarks.md). `serve`'s refreshes and the relay's misses stay one
   * certificate per job (each has its own time).
   */
  batchSize: 16,
  /** Attempts per certificate before its job fails. */
  attempts: 5,
  /** First retry delay after a failed attempt, ms (doubles per attempt, jittered). */
  retryBaseMs: 1_000,
  /** Longest retry delay, ms. */
  retryMaxMs: 60_000,
  /**
   * BullMQ job lock, ms, renewed every half of it: a worker that dies (SIGKILL, a lost machine)
   * hands its jobs back after at most this plus `stalledIntervalMs`. BullMQ's own 30 s + 30 s
   * made a killed worker cost a minute.
   */
  lockDurationMs: 10_000,
  /** How often each worker looks for jobs whose lock expired, ms. */
  stalledIntervalMs: 5_000,
  /**
   * Responder hosts with a queue of their own. Hosts are few (one per issuing CA); past this many
   * (a hostile store naming thousands), the others share one overflow queue and its budget.
   */
  maxHostQueues: 64,
  /** How often a worker process looks for new host queues and re-divides the ceiling, ms. */
  hostSyncMs: 1_000,
  /** A host queue with no job for this long is forgotten (its worker closed), ms. */
  hostIdleMs: 15 * 60_000,
});

export type QueueDefaults = typeof QUEUE_DEFAULTS;
