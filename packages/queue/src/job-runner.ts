import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import { StapleJobError } from './errors.js';
import type { HostLimiter } from './host-limiter.js';
import type { StapleJobData, StapleJobResult } from './job.js';
import { hostOf, processStaple, type StapleDeps } from './process.js';

export interface StapleJobRunnerOptions {
  deps: StapleDeps;
  limiter: HostLimiter;
  random?: () => number;
}

/** Failures where the responder never answered: they count towards its circuit breaker. */
const NO_ANSWER: ReadonlySet<string> = new Set(['timeout', 'connect', 'network']);

/**
 * One job, one certificate: wait for the responder host's budget, then fetch → verify → store
 * (processStaple). A 429 pauses the host for every worker and hands the job back without counting an
 * attempt; so does a host that is paused or whose local queue is full. A host that stopped answering
 * fails the attempt at once (`host-down`, see host-health.ts). Other failures are recorded in the
 * store's meta (`lastError`, never the staple); retryable ones come back with backoff.
 */
export class StapleJobRunner {
  private readonly random: () => number;

  constructor(private readonly options: StapleJobRunnerOptions) {
    this.random = options.random ?? Math.random;
  }

  async run(job: Job<StapleJobData, StapleJobResult>, token?: string): Promise<StapleJobResult> {
    const { deps, limiter } = this.options;
    const target = job.data;
    // The primary URL's host is the one whose budget the request spends.
    const host = hostOf(target.ocspUrls[0] ?? '');
    if (host !== '') {
      const permit = await limiter.acquire(host);
      if (!permit.granted && permit.reason === 'down') {
        const message = `${host} stopped answering; next try after ${new Date(permit.until).toISOString()}`;
        return this.fail(target, new StapleJobError('host-down', message, { retryable: true, responder: target.ocspUrls[0] }));
      }
      if (!permit.granted) return this.handBack(job, token, permit.until);
    }
    const sentAt = deps.now();
    try {
      const result = await processStaple(target, deps);
      if (host !== '') limiter.answered(host);
      return result;
    } catch (err) {
      const failure =
        err instanceof StapleJobError
          ? err
          : new StapleJobError('internal', err instanceof Error ? err.message : String(err), { retryable: true, cause: err });
      if (host !== '') {
        if (NO_ANSWER.has(failure.code)) limiter.unanswered(host);
        else limiter.answered(host);
      }
      if (failure.code === 'rate-limited') {
        const limited = hostOf(failure.responder ?? '') || host;
        const { until, pausedMs } = await limiter.rateLimited(limited, { sentAt, retryAfterMs: failure.retryAfterMs });
        if (pausedMs > 0) deps.observer?.rateLimited(limited, pausedMs / 1000);
        return this.handBack(job, token, until);
      }
      return this.fail(target, failure);
    }
  }

  /** Records the failed attempt in the store's meta (never the staple), then lets BullMQ retry or fail it. */
  private async fail(target: StapleJobData, failure: StapleJobError): Promise<never> {
    await this.options.deps.store.recordFailure(
      target.fingerprint,
      { code: failure.code, message: failure.message, at: new Date(this.options.deps.now()) },
      { names: target.names, mustStaple: target.mustStaple, certNotAfter: target.certNotAfter, responder: failure.responder },
    );
    if (!failure.retryable) throw new UnrecoverableError(failure.message);
    throw failure;
  }

  /**
   * Gives the job back to the queue, to run again from `until`, without spending an attempt
   * (`moveToDelayed` skips the attempt count). Only this job waits, in the delayed set: the jobs of
   * other hosts behind it keep flowing. (BullMQ's queue-wide `rateLimit` + `RateLimitError` would put
   * it back at the head of the wait list and stop every host for the whole pause.)
   */
  private async handBack(job: Job<StapleJobData, StapleJobResult>, token: string | undefined, until: number): Promise<never> {
    const wait = Math.max(1, until - this.options.deps.now());
    // Spread the jobs of one pause a little, so they do not all come back in the same millisecond.
    const jitter = this.random() * Math.min(1_000, wait / 5);
    await job.moveToDelayed(Math.round(until + jitter), token);
    throw new DelayedError();
  }
}
