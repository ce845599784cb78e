import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import { StapleJobError } from '../jobs/errors.js';
import { fetchWithFailover } from './failover.js';
import type { HostLimiter } from '../hosts/host-limiter.js';
import type { StapleJobData, StapleJobResult } from '../jobs/job.js';
import { silentObserver } from './observer.js';
import { processStaple, type StapleDeps } from './process.js';
import { responderUrls } from '../hosts/responder-urls.js';

export interface StapleJobRunnerOptions {
  deps: StapleDeps;
  limiter: HostLimiter;
  random?: () => number;
}

/** Certificates whose ignored URLs were logged, at most this many remembered (then it starts over). */
const WARNED_CAP = 1_000;

/**
 * One job, one certificate: fetch through each responder host's budget in turn (fetchWithFailover),
 * then verify → store (processStaple). A 429 pauses its host for every worker; when no URL answered
 * and a host was paused, backlogged or busy, the job is handed back without counting an attempt. A
 * host that stopped answering fails its URL at once (`host-down`, see host-health.ts). Other
 * failures are recorded in the store's meta (`lastError`, never the staple); retryable ones come back
 * with backoff, the others (`address-refused`, `bad-url`, ...) fail the job at once.
 */
export class StapleJobRunner {
  private readonly random: () => number;
  private readonly warned = new Set<string>();

  constructor(private readonly options: StapleJobRunnerOptions) {
    this.random = options.random ?? Math.random;
  }

  async run(job: Job<StapleJobData, StapleJobResult>, token?: string): Promise<StapleJobResult> {
    const { deps, limiter } = this.options;
    const target = job.data;
    const { used, ignored } = responderUrls(target.ocspUrls);
    if (ignored > 0) this.warnIgnored(target, used.length, ignored);
    let fetched: Awaited<ReturnType<typeof fetchWithFailover>>;
    try {
      fetched = await fetchWithFailover(used, Buffer.from(target.request, 'base64'), {
        client: deps.client,
        limiter,
        observer: deps.observer ?? silentObserver,
        now: deps.now,
      });
    } catch (err) {
      // The limiter's own failures (a lease that never came: Redis unreachable) are this attempt's
      // failure too, recorded like any other: lastError says why the certificate has no staple.
      return this.fail(target, asJobError(err));
    }
    if (fetched.kind === 'hand-back') return this.handBack(job, token, fetched.until);
    if (fetched.kind === 'failed') return this.fail(target, fetched.error);
    try {
      return await processStaple(target, fetched.response, deps);
    } catch (err) {
      return this.fail(target, asJobError(err));
    }
  }

  /** Once per certificate (per process): the URLs past MAX_OCSP_URLS are not tried. */
  private warnIgnored(target: StapleJobData, used: number, ignored: number): void {
    if (this.warned.has(target.fingerprint)) return;
    if (this.warned.size >= WARNED_CAP) this.warned.clear();
    this.warned.add(target.fingerprint);
    this.options.deps.log.warn(
      { fingerprint: target.fingerprint, names: target.names, used, ignored },
      `certificate lists ${used + ignored} distinct OCSP URLs: only the first ${used} are tried`,
    );
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

/** Errors that are not already a StapleJobError keep their own stable `code` when they have one. */
function asJobError(err: unknown): StapleJobError {
  if (err instanceof StapleJobError) return err;
  const code = (err as { code?: unknown } | undefined)?.code;
  return new StapleJobError(typeof code === 'string' ? code : 'internal', err instanceof Error ? err.message : String(err), {
    retryable: true,
    cause: err,
  });
}
