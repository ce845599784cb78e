import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { FETCH_JOB, STAPLE_QUEUE, type StapleJobData, type StapleJobResult } from './job.js';

export interface StapleQueueOptions {
  connection: Redis;
  prefix: string;
  /** Attempts per job before it fails. @defaultValue 5 */
  attempts?: number;
}

/** Enqueueing side: one job per certificate, jobId = fingerprint. */
export class StapleQueue {
  readonly queue: Queue<StapleJobData, StapleJobResult>;
  private readonly attempts: number;

  constructor(options: StapleQueueOptions) {
    this.attempts = options.attempts ?? 5;
    this.queue = new Queue<StapleJobData, StapleJobResult>(STAPLE_QUEUE, {
      connection: options.connection,
      prefix: options.prefix,
      // A cold start of 50K certificates emits ~200K events; keep enough for a lagging listener.
      streams: { events: { maxLen: 200_000 } },
    });
  }

  /**
   * Adds one job per target. A target whose job is already queued (same fingerprint) is not added
   * twice: BullMQ ignores a jobId it already holds. `urgent` (the relay's misses: a server is
   * waiting) puts the jobs at the head of the wait list, so the next free worker slot takes them,
   * still under the global and per-host limits. (BullMQ's `priority` would not: prioritized jobs
   * wait until the plain wait list is empty.)
   */
  async enqueue(targets: readonly StapleJobData[], opts: { batch?: number; urgent?: boolean } = {}): Promise<void> {
    const batch = opts.batch ?? 1_000;
    for (let i = 0; i < targets.length; i += batch) {
      await this.queue.addBulk(
        targets.slice(i, i + batch).map((target) => ({
          name: FETCH_JOB,
          data: target,
          opts: {
            jobId: target.fingerprint,
            attempts: this.attempts,
            backoff: { type: 'staple' },
            removeOnComplete: true,
            removeOnFail: true,
            ...(opts.urgent ? { lifo: true } : {}),
          },
        })),
      );
    }
  }

  /** Drops old entries of the events stream once nobody waits on them (Redis memory per staple). */
  async trimEvents(keep = 1_000): Promise<void> {
    await this.queue.trimEvents(keep);
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
