import type { Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { failureCode } from './errors.js';
import { HostEvents, type SettledEvent } from './host-events.js';
import type { StapleJobData, StapleJobResult } from './job.js';
import type { StapleQueue } from './queue.js';

/** How a tracked job ended. `gone`: it left the queue without us seeing the event (see `wait`). */
export type JobSettlement =
  | { id: string; state: 'completed'; result: StapleJobResult }
  | { id: string; state: 'failed'; code: string; reason: string }
  | { id: string; state: 'gone' };

/** Settled jobs as a worker pool in this process reports them (StaplePool's events). */
export interface LocalSettlements {
  on(event: 'completed', listener: (job: Job<StapleJobData, StapleJobResult>, result: StapleJobResult) => void): unknown;
  on(event: 'failed', listener: (job: Job<StapleJobData, StapleJobResult> | undefined, error: Error) => void): unknown;
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
  /** Called for each settled job, e.g. to move a progress bar. */
  onSettled?: (settlement: JobSettlement, remaining: number) => void;
}

/**
 * Waits for a set of jobs through their host queues' events, so it works whether the workers run in
 * this process or in others (`warm --no-work`). `track` starts listening to a host's queue before
 * its jobs are added: events are not replayed.
 */
export class JobTracker {
  private readonly events: HostEvents;
  /** Pending job id → its host queue. */
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
    options.local?.on('completed', (job, result) => this.settle({ id: job.id ?? '', state: 'completed', result }));
    options.local?.on('failed', (job, error) => {
      // 'failed' also fires for an attempt that will be retried: only a job with finishedOn is done.
      if (job?.finishedOn) this.settle({ id: job.id ?? '', state: 'failed', code: failureCode(error.message), reason: error.message });
    });
  }

  /**
   * Tracks jobs (job id → host queue, as `StapleQueue.route` or `enqueue` gives them); resolves once
   * their host queues are listened to. Call before the jobs are added.
   */
  async track(jobs: ReadonlyMap<string, string>): Promise<void> {
    if (!this.options.local) await this.events.listen(new Set(jobs.values()));
    for (const [id, host] of jobs) if (!this.settled.has(id)) this.pending.set(id, host);
  }

  get remaining(): number {
    return this.pending.size;
  }

  /** The tracked jobs that have not settled (yet): what a run that gives up reports as unfinished. */
  unsettled(): string[] {
    return [...this.pending.keys()];
  }

  /**
   * Resolves when every tracked job has settled, or as soon as `signal` aborts (a caller's
   * deadline: the jobs still pending are then `unsettled()`). When no event arrives for
   * `idleCheckMs`, it asks the queues about the jobs still pending: one that no longer exists settled
   * while we could not see it (a trimmed events stream, a restart) and is reported `gone`, for the
   * caller to read from the store. Following a local pool, it asks every `idleCheckMs` (1 s) whatever
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
    const all = [...this.pending];
    if (this.checkFrom >= all.length) this.checkFrom = 0;
    const jobs = all.slice(this.checkFrom, this.checkFrom + 1_000);
    this.checkFrom += jobs.length;
    // A job's hash exists from its add until its removal (removeOnComplete/removeOnFail: true), in
    // whatever state: a missing hash is getJobState's 'unknown'. One pipelined EXISTS per job instead
    // of getJobState's script, which looks the id up in every state's list (LPOS over a 10,000-job
    // wait list) and was, once a second over 1,000 jobs, about one such call per certificate warmed.
    const pipeline = this.options.connection.pipeline();
    for (const [id, host] of jobs) pipeline.exists(this.options.queue.queueOf(host).toKey(id));
    const answers = (await pipeline.exec()) ?? [];
    jobs.forEach(([id], i) => {
      const [err, exists] = answers[i] ?? [];
      if (err) throw err;
      if (exists === 0) this.settle({ id, state: 'gone' });
    });
    this.lastEventAt = this.lastCheckAt = Date.now();
  }

  private onEvent(event: SettledEvent): void {
    if (event.state === 'completed') this.settle({ id: event.jobId, state: 'completed', result: parseResult(event.returnvalue) });
    else this.settle({ id: event.jobId, state: 'failed', code: failureCode(event.failedReason), reason: event.failedReason });
  }

  private settle(settlement: JobSettlement): void {
    this.lastEventAt = Date.now();
    if (!this.pending.delete(settlement.id)) return;
    this.settled.set(settlement.id, settlement);
    this.options.onSettled?.(settlement, this.pending.size);
    if (this.pending.size === 0) this.wake?.();
  }
}

function parseResult(value: unknown): StapleJobResult {
  return (typeof value === 'string' ? JSON.parse(value) : value) as StapleJobResult;
}
