import { setTimeout as sleep } from 'node:timers/promises';
import type { Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { failureCode } from './errors.js';
import { HostEvents, type SettledEvent } from './host-events.js';
import { isBatchResult, type QueuedJobData, type QueuedJobResult, type StapleJobData, type StapleJobResult } from './job.js';
import type { PlannedJob } from './plan.js';
import type { StapleQueue } from './queue.js';

/**
 * How a tracked certificate ended (`id`: its fingerprint). `gone`: its job left the queue without us
 * seeing how (see `wait`), or a batch failed as a whole: the store says how the certificate ended.
 */
export type JobSettlement =
  | { id: string; state: 'completed'; result: StapleJobResult }
  | { id: string; state: 'failed'; code: string; reason: string }
  | { id: string; state: 'gone' };

/**
 * How long a job found missing from its queue has for its settled event to arrive before its
 * certificates are reported `gone`. BullMQ removes a finished job's hash in the script that finishes
 * it, and the event (the local pool's, or the queue's events stream) comes after: a check in between
 * took a completed batch for gone (a CI failure of batch.test.ts).
 */
export const GONE_GRACE_MS = 500;

/** Settled jobs as a worker pool in this process reports them (StaplePool's events). */
export interface LocalSettlements {
  on(event: 'completed', listener: (job: Job<QueuedJobData, QueuedJobResult>, result: QueuedJobResult) => void): unknown;
  on(event: 'failed', listener: (job: Job<QueuedJobData, QueuedJobResult> | undefined, error: Error) => void): unknown;
}

export interface JobTrackerOptions {
  connection: Redis;
  prefix: string;
  /** The queues the jobs are in (to ask about a job whose event was not seen). */
  queue: StapleQueue;
  /**
   * A worker pool in this process that works every tracked job's queue: its own events say when a
   * job settles, and the queues' event streams are not read at all (reading them costs as much CPU
   * as a good part of the fetching). A job another process settles is found by the idle check.
   */
  local?: LocalSettlements;
  /** Called for each settled certificate, e.g. to move a progress bar. */
  onSettled?: (settlement: JobSettlement, remaining: number) => void;
}

/** A job to follow: its id, its host queue and the certificates it carries (a PlannedJob). */
export type TrackedJob = Pick<PlannedJob, 'id' | 'host'> & { targets: readonly Pick<StapleJobData, 'fingerprint'>[] };

/**
 * Waits for a set of certificates' jobs (plain or batches) through their host queues' events, so it
 * works whether the workers run in this process or in others (`warm --no-work`), and reports each
 * certificate as it settles. `track` starts listening to a host's queue before its jobs are added:
 * events are not replayed.
 */
export class JobTracker {
  private readonly events: HostEvents;
  /** Pending job id → its host queue and its certificates not settled yet. */
  private readonly jobs = new Map<string, { host: string; waiting: Set<string> }>();
  /** Pending certificate (fingerprint) → its job id. */
  private readonly pending = new Map<string, string>();
  private readonly settled = new Map<string, JobSettlement>();
  private readonly options: JobTrackerOptions;
  private lastEventAt = Date.now();
  private lastCheckAt = Date.now();
  /** Where the next check of pending jobs starts: each round looks at the next 1,000. */
  private checkFrom = 0;
  private wake: (() => void) | undefined;

  constructor(options: JobTrackerOptions) {
    this.options = options;
    this.events = new HostEvents({ connection: options.connection, prefix: options.prefix, onSettled: (event) => this.onEvent(event) });
    options.local?.on('completed', (job, result) => this.completed(job.id ?? '', result));
    options.local?.on('failed', (job, error) => {
      // 'failed' also fires for an attempt that will be retried: only a job with finishedOn is done.
      if (job?.finishedOn) this.failed(job.id ?? '', error.message);
    });
  }

  /**
   * Tracks jobs (as `planJobs` makes them); resolves once their host queues are listened to. Call
   * before the jobs are added.
   */
  async track(jobs: readonly TrackedJob[]): Promise<void> {
    if (!this.options.local) await this.events.listen(new Set(jobs.map((job) => job.host)));
    for (const job of jobs) {
      const waiting = new Set<string>();
      for (const { fingerprint } of job.targets) {
        if (this.settled.has(fingerprint)) continue;
        waiting.add(fingerprint);
        this.pending.set(fingerprint, job.id);
      }
      if (waiting.size > 0) this.jobs.set(job.id, { host: job.host, waiting });
    }
  }

  get remaining(): number {
    return this.pending.size;
  }

  /** The tracked certificates that have not settled (yet): what a run that gives up reports as unfinished. */
  unsettled(): string[] {
    return [...this.pending.keys()];
  }

  /**
   * Resolves when every tracked certificate has settled (by fingerprint), or as soon as `signal`
   * aborts (a caller's deadline: the certificates still pending are then `unsettled()`). When no
   * event arrives for `idleCheckMs`, it asks the queues about the jobs still pending: one that no
   * longer exists settled while we could not see it (a trimmed events stream, a restart) and its
   * certificates are reported `gone` (after GONE_GRACE_MS without its event), for the caller to
   * read from the store. Following a local pool, it asks every `idleCheckMs` (1 s) whatever
   * the pool reports: jobs that another worker process settles are seen only that way.
   */
  async wait(opts: { idleCheckMs?: number; signal?: AbortSignal } = {}): Promise<Map<string, JobSettlement>> {
    const local = this.options.local !== undefined;
    const idleCheckMs = opts.idleCheckMs ?? (local ? 1_000 : 3_000);
    const { signal } = opts;
    const onAbort = (): void => this.wake?.();
    signal?.addEventListener('abort', onAbort);
    try {
      while (this.pending.size > 0 && !signal?.aborted) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          setTimeout(resolve, idleCheckMs).unref();
        });
        this.wake = undefined;
        const due = local ? Date.now() - this.lastCheckAt >= idleCheckMs : Date.now() - this.lastEventAt >= idleCheckMs;
        if (this.pending.size > 0 && !signal?.aborted && due) await this.reconcile();
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
    return this.settled;
  }

  async close(): Promise<void> {
    await this.events.close();
  }

  private async reconcile(): Promise<void> {
    const all = [...this.jobs];
    if (this.checkFrom >= all.length) this.checkFrom = 0;
    const jobs = all.slice(this.checkFrom, this.checkFrom + 1_000);
    this.checkFrom += jobs.length;
    // A job's hash exists from its add until its removal (removeOnComplete/removeOnFail: true), in
    // whatever state: a missing hash is getJobState's 'unknown'. One pipelined EXISTS per job instead
    // of getJobState's script, which looks the id up in every state's list (LPOS over a 10,000-job
    // wait list) and was, once a second over 1,000 jobs, about one such call per certificate warmed.
    const pipeline = this.options.connection.pipeline();
    for (const [id, { host }] of jobs) pipeline.exists(this.options.queue.queueOf(host).toKey(id));
    const answers = (await pipeline.exec()) ?? [];
    const missing = jobs.filter((_, i) => {
      const [err, exists] = answers[i] ?? [];
      if (err) throw err;
      return exists === 0;
    });
    if (missing.length > 0) {
      // Their events settle them meanwhile if they are on their way; settleJob skips those.
      await sleep(GONE_GRACE_MS);
      for (const [id] of missing) this.settleJob(id, (fingerprint) => ({ id: fingerprint, state: 'gone' }));
    }
    this.lastEventAt = this.lastCheckAt = Date.now();
  }

  private onEvent(event: SettledEvent): void {
    if (event.state === 'completed') this.completed(event.jobId, parseResult(event.returnvalue));
    else this.failed(event.jobId, event.failedReason);
  }

  /** A batch reports each certificate's ending; a plain job is its certificate's. */
  private completed(jobId: string, result: QueuedJobResult): void {
    if (isBatchResult(result)) {
      for (const one of result.batch) {
        if (this.pending.get(one.fingerprint) !== jobId) continue;
        this.settle(
          one.state === 'completed'
            ? { id: one.fingerprint, state: 'completed', result: one.result }
            : { id: one.fingerprint, state: 'failed', code: one.code, reason: one.reason },
        );
      }
      // Not in the result (a batch this run did not plan the same way): the store knows.
      this.settleJob(jobId, (fingerprint) => ({ id: fingerprint, state: 'gone' }));
    } else this.settleJob(jobId, (fingerprint) => ({ id: fingerprint, state: 'completed', result }));
  }

  /** A plain job's failure is its certificate's; a failed batch's certificates may have ended before it: the store knows. */
  private failed(jobId: string, reason: string): void {
    const job = this.jobs.get(jobId);
    if (!job) return;
    const batch = job.waiting.size !== 1 || !job.waiting.has(jobId);
    this.settleJob(jobId, (fingerprint) =>
      batch ? { id: fingerprint, state: 'gone' } : { id: fingerprint, state: 'failed', code: failureCode(reason), reason },
    );
  }

  /** Settles every certificate of a job still waiting. */
  private settleJob(jobId: string, settlement: (fingerprint: string) => JobSettlement): void {
    const job = this.jobs.get(jobId);
    if (!job) return;
    // A certificate tracked again under another job since is that job's to settle.
    for (const fingerprint of [...job.waiting]) if (this.pending.get(fingerprint) === jobId) this.settle(settlement(fingerprint));
    this.jobs.delete(jobId);
  }

  private settle(settlement: JobSettlement): void {
    this.lastEventAt = Date.now();
    const jobId = this.pending.get(settlement.id);
    if (jobId === undefined) return;
    this.pending.delete(settlement.id);
    const job = this.jobs.get(jobId);
    job?.waiting.delete(settlement.id);
    if (job?.waiting.size === 0) this.jobs.delete(jobId);
    this.settled.set(settlement.id, settlement);
    this.options.onSettled?.(settlement, this.pending.size);
    if (this.pending.size === 0) this.wake?.();
  }
}

function parseResult(value: unknown): QueuedJobResult {
  return (typeof value === 'string' ? JSON.parse(value) : value) as QueuedJobResult;
}
