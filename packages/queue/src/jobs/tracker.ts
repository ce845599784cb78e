import { QueueEvents, type Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { failureCode } from './errors.js';
import { STAPLE_QUEUE, type StapleJobResult } from './job.js';

/** How a tracked job ended. `gone`: it left the queue without us seeing the event (see `wait`). */
export type JobSettlement =
  | { id: string; state: 'completed'; result: StapleJobResult }
  | { id: string; state: 'failed'; code: string; reason: string }
  | { id: string; state: 'gone' };

export interface JobTrackerOptions {
  connection: Redis;
  prefix: string;
  /** Called for each settled job, e.g. to move a progress bar. */
  onSettled?: (settlement: JobSettlement, remaining: number) => void;
}

/**
 * Waits for a set of jobs through BullMQ's QueueEvents, so it works whether the workers run in this
 * process or in others (`warm --no-work`). Start it before enqueueing: events are not replayed.
 */
export class JobTracker {
  private readonly events: QueueEvents;
  private readonly pending = new Set<string>();
  private readonly settled = new Map<string, JobSettlement>();
  private readonly options: JobTrackerOptions;
  private lastEventAt = Date.now();
  private wake: (() => void) | undefined;

  constructor(options: JobTrackerOptions) {
    this.options = options;
    this.events = new QueueEvents(STAPLE_QUEUE, { connection: options.connection, prefix: options.prefix });
    this.events.on('completed', ({ jobId, returnvalue }) => {
      this.settle({ id: jobId, state: 'completed', result: parseResult(returnvalue) });
    });
    this.events.on('failed', ({ jobId, failedReason }) => {
      this.settle({ id: jobId, state: 'failed', code: failureCode(failedReason), reason: failedReason });
    });
  }

  async start(): Promise<void> {
    await this.events.waitUntilReady();
  }

  track(ids: Iterable<string>): void {
    for (const id of ids) if (!this.settled.has(id)) this.pending.add(id);
  }

  get remaining(): number {
    return this.pending.size;
  }

  /** The tracked jobs that have not settled (yet): what a run that gives up reports as unfinished. */
  unsettled(): string[] {
    return [...this.pending];
  }

  /**
   * Resolves when every tracked job has settled, or as soon as `signal` aborts (a caller's
   * deadline: the jobs still pending are then `unsettled()`). When no event arrives for
   * `idleCheckMs`, it asks the queue about the jobs still pending: one that no longer exists settled
   * while we could not see it (a trimmed events stream, a restart) and is reported `gone`, for the
   * caller to read from the store.
   */
  async wait(queue: Queue, opts: { idleCheckMs?: number; signal?: AbortSignal } = {}): Promise<Map<string, JobSettlement>> {
    const idleCheckMs = opts.idleCheckMs ?? 3_000;
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
        if (this.pending.size > 0 && !signal?.aborted && Date.now() - this.lastEventAt >= idleCheckMs) await this.reconcile(queue);
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
    return this.settled;
  }

  async close(): Promise<void> {
    await this.events.close();
  }

  private async reconcile(queue: Queue): Promise<void> {
    const ids = [...this.pending].slice(0, 1_000);
    const states = await Promise.all(ids.map((id) => queue.getJobState(id)));
    ids.forEach((id, i) => {
      if (states[i] === 'unknown') this.settle({ id, state: 'gone' });
    });
    this.lastEventAt = Date.now();
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
