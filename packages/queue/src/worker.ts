import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { DEFAULT_BACKOFF, retryDelay, type BackoffPolicy } from './backoff.js';
import { StapleJobError } from './errors.js';
import { STAPLE_QUEUE, type StapleJobData, type StapleJobResult } from './job.js';
import { processStaple, type StapleDeps } from './process.js';

export interface StapleWorkerOptions {
  /** ioredis connection (BullMQ duplicates it for its blocking reads). Needs maxRetriesPerRequest: null. */
  connection: Redis;
  /** BullMQ key prefix, shared by every process working the same fleet. */
  prefix: string;
  /**
   * Global fetch budget, requests per second, shared by every worker process through Redis
   * (BullMQ's queue limiter). 0 disables it. @defaultValue 500
   */
  rate?: number;
  /** Jobs in flight in this process; needs ≈ rate × responder latency. @defaultValue 64 */
  concurrency?: number;
  backoff?: BackoffPolicy;
  deps: StapleDeps;
  /** Start taking jobs at once. @defaultValue true */
  autorun?: boolean;
}

/**
 * The worker pool of one process. Each job: fetch → verify → store (processStaple). Failures are
 * recorded in the store's meta (`lastError`), never in the staple; retryable ones come back with
 * backoff, the others fail at once.
 */
export function createStapleWorker(options: StapleWorkerOptions): Worker<StapleJobData, StapleJobResult> {
  const { deps } = options;
  const policy = options.backoff ?? DEFAULT_BACKOFF;
  const rate = options.rate ?? 500;

  const processor = async (job: Job<StapleJobData, StapleJobResult>): Promise<StapleJobResult> => {
    try {
      return await processStaple(job.data, deps);
    } catch (err) {
      const failure =
        err instanceof StapleJobError
          ? err
          : new StapleJobError('internal', err instanceof Error ? err.message : String(err), { retryable: true, cause: err });
      if (failure.code !== 'rate-limited') {
        const target = job.data;
        await deps.store.recordFailure(
          target.fingerprint,
          { code: failure.code, message: failure.message, at: new Date(deps.now()) },
          { names: target.names, mustStaple: target.mustStaple, certNotAfter: target.certNotAfter, responder: failure.responder },
        );
      }
      if (!failure.retryable) throw new UnrecoverableError(failure.message);
      throw failure;
    }
  };

  return new Worker<StapleJobData, StapleJobResult>(STAPLE_QUEUE, processor, {
    connection: options.connection,
    prefix: options.prefix,
    concurrency: options.concurrency ?? 64,
    autorun: options.autorun ?? true,
    // Spread the budget over 10 windows a second: a whole second's worth at once would hit the
    // responder as a burst far above its steady rate.
    ...(rate > 0 ? { limiter: limiterFor(rate) } : {}),
    removeOnComplete: { count: 0 },
    removeOnFail: { count: 0 },
    settings: {
      backoffStrategy: (attemptsMade: number, _type?: string, err?: Error) =>
        retryDelay(attemptsMade, policy, Math.random, err instanceof StapleJobError ? err.retryAfterMs : undefined),
    },
  });
}

/** BullMQ limiter windows for a requests-per-second budget: 100 ms windows when the rate allows. */
export function limiterFor(rate: number): { max: number; duration: number } {
  if (rate >= 10 && Number.isInteger(rate / 10)) return { max: rate / 10, duration: 100 };
  return { max: Math.max(1, Math.round(rate)), duration: 1000 };
}
