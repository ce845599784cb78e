import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import { retryDelay, type BackoffPolicy } from '../jobs/backoff.js';
import { StapleJobError } from '../jobs/errors.js';
import { fetchWithFailover } from './failover.js';
import type { HostLimiter } from '../hosts/host-limiter.js';
import {
  isBatchData,
  type QueuedJobData,
  type QueuedJobResult,
  type StapleBatchData,
  type StapleBatchResult,
  type StapleJobData,
  type StapleJobResult,
} from '../jobs/job.js';
import { InFlightGate } from '../hosts/in-flight.js';
import { silentObserver } from './observer.js';
import { processStaple, type StapleDeps } from './process.js';
import { responderUrls } from '../hosts/responder-urls.js';

export interface StapleJobRunnerOptions {
  deps: StapleDeps;
  limiter: HostLimiter;
  /**
   * Certificates worked at once per host queue in this process, whether they came one per job or in
   * batches (a pool of `concurrency` jobs of 16 would otherwise start 16x as many).
   */
  certificatesInFlight: number;
  /** Retry timing of a batch's certificates (a plain job's is BullMQ's, set by the pool). */
  backoff: BackoffPolicy;
  random?: () => number;
}

/** Certificates whose ignored URLs were logged, at most this many remembered (then it starts over). */
const WARNED_CAP = 1_000;

/** One certificate's attempt: its result, or to come back at `until` without spending an attempt, or a failure (recorded). */
type Attempt = { kind: 'done'; result: StapleJobResult } | { kind: 'hand-back'; until: number } | { kind: 'failed'; error: StapleJobError };

/**
 * A job is one certificate or a batch of a host queue's certificates; each certificate is worked
 * the same way: fetch through each responder host's budget in turn (fetchWithFailover), then verify
 * → store (processStaple). A 429 pauses its host for every worker; when no URL answered and a host
 * was paused, backlogged or busy, the certificate is handed back without counting an attempt. A
 * host that stopped answering fails its URL at once (`host-down`, see host-health.ts). Other
 * failures are recorded in the store's meta (`lastError`, never the staple); retryable ones come back
 * with backoff, the others (`address-refused`, `bad-url`, ...) fail at once.
 *
 * A batch settles each certificate on its own: those done are kept in the job's data, and the
 * batch comes back with only the others (see runBatch).
 */
export class StapleJobRunner {
  private readonly random: () => number;
  private readonly warned = new Set<string>();
  /** Per host queue: certificates being worked by this process. */
  private readonly slots = new Map<string, InFlightGate>();

  constructor(private readonly options: StapleJobRunnerOptions) {
    this.random = options.random ?? Math.random;
  }

  async run(job: Job<QueuedJobData, QueuedJobResult>, token?: string): Promise<QueuedJobResult> {
    const data = job.data;
    if (isBatchData(data)) return this.runBatch(job, data, token);
    const attempt = await this.attempt(job.queueName, data);
    if (attempt.kind === 'done') return attempt.result;
    if (attempt.kind === 'hand-back') return this.handBack(job, token, attempt.until);
    if (!attempt.error.retryable) throw new UnrecoverableError(attempt.error.message);
    throw attempt.error;
  }

  /**
   * Works a batch's certificates together. Those that end (stored, kept, or failed for good: a
   * non-retryable error, or a retryable one at the certificate's last attempt) join `settled` in the
   * job's data; when some did not, the job's data is cut down to them, with each one's failed
   * attempts (`tries`), and the job comes back at the latest of their hand-back and the earliest
   * of their backoffs. Attempts are counted per certificate, not by BullMQ (the batch is handed back,
   * not failed): one certificate's failures never spend another's attempts. A worker killed
   * mid-batch leaves the data as of its last run: the batch runs again from there (the store keeps
   * the better staple of a certificate fetched twice).
   */
  private async runBatch(
    job: Job<QueuedJobData, QueuedJobResult>,
    data: StapleBatchData,
    token: string | undefined,
  ): Promise<StapleBatchResult> {
    const { targets } = data;
    const outcomes = await Promise.all(targets.map((target) => this.attempt(job.queueName, target)));
    const maxAttempts = job.opts.attempts ?? 1;
    const now = this.options.deps.now();
    const settled = [...data.settled];
    const again: StapleJobData[] = [];
    const tries: Record<string, number> = {};
    let handBackUntil = 0;
    let retryAt = Infinity;
    outcomes.forEach((outcome, i) => {
      const target = targets[i]!;
      const { fingerprint } = target;
      if (outcome.kind === 'done') {
        settled.push({ fingerprint, state: 'completed', result: outcome.result });
        return;
      }
      const made = data.tries?.[fingerprint] ?? 0;
      if (outcome.kind === 'hand-back') {
        handBackUntil = Math.max(handBackUntil, outcome.until);
      } else if (outcome.error.retryable && made + 1 < maxAttempts) {
        retryAt = Math.min(retryAt, now + retryDelay(made + 1, this.options.backoff, this.random, outcome.error.retryAfterMs));
      } else {
        settled.push({ fingerprint, state: 'failed', code: outcome.error.code, reason: outcome.error.message });
        return;
      }
      again.push(target);
      tries[fingerprint] = made + (outcome.kind === 'failed' ? 1 : 0);
    });
    if (again.length === 0) return { batch: settled };
    await job.updateData({ targets: again, settled, tries } satisfies StapleBatchData);
    return this.handBack(job, token, Math.max(handBackUntil, retryAt === Infinity ? 0 : retryAt));
  }

  /** One certificate, within its host queue's certificates in flight. */
  private async attempt(queueName: string, target: StapleJobData): Promise<Attempt> {
    let gate = this.slots.get(queueName);
    if (!gate) this.slots.set(queueName, (gate = new InFlightGate(this.options.certificatesInFlight)));
    await gate.enterWhenFree();
    try {
      return await this.fetchAndStore(target);
    } finally {
      gate.leave();
    }
  }

  private async fetchAndStore(target: StapleJobData): Promise<Attempt> {
    const { deps, limiter } = this.options;
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
    if (fetched.kind === 'hand-back') return fetched;
    if (fetched.kind === 'failed') return this.fail(target, fetched.error);
    try {
      return { kind: 'done', result: await processStaple(target, fetched.response, deps) };
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

  /** Records the failed attempt in the store's meta (never the staple); retrying or not is the caller's. */
  private async fail(target: StapleJobData, failure: StapleJobError): Promise<Attempt> {
    await this.options.deps.store.recordFailure(
      target.fingerprint,
      { code: failure.code, message: failure.message, at: new Date(this.options.deps.now()) },
      { names: target.names, mustStaple: target.mustStaple, certNotAfter: target.certNotAfter, responder: failure.responder },
    );
    return { kind: 'failed', error: failure };
  }

  /**
   * Gives the job back to the queue, to run again from `until`, without spending an attempt
   * (`moveToDelayed` skips the attempt count). Only this job waits, in the delayed set: the jobs of
   * other hosts behind it keep flowing. (BullMQ's queue-wide `rateLimit` + `RateLimitError` would put
   * it back at the head of the wait list and stop every host for the whole pause.)
   */
  private async handBack(job: Job<QueuedJobData, QueuedJobResult>, token: string | undefined, until: number): Promise<never> {
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
