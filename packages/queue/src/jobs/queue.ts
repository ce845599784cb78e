import { Queue, type JobType } from 'bullmq';
import type { Redis } from 'ioredis';
import { QUEUE_DEFAULTS } from '../defaults.js';
import { HostRegistry, OVERFLOW_HOST, hostQueueName, primaryHostOf } from './host-queues.js';
import {
  FETCH_BATCH_JOB,
  FETCH_JOB,
  silentLogger,
  type QueuedJobData,
  type QueuedJobResult,
  type StapleBatchData,
  type StapleJobData,
  type StapleLogger,
} from './job.js';
import { planJobs, type PlannedJob } from './plan.js';

export interface StapleQueueOptions {
  connection: Redis;
  /** BullMQ key prefix, shared by every process of the fleet. */
  prefix: string;
  /** Attempts per certificate before it fails. @defaultValue QUEUE_DEFAULTS.attempts (5) */
  attempts?: number;
  /** Hosts with a queue of their own; the others share the overflow queue. @defaultValue QUEUE_DEFAULTS.maxHostQueues (64) */
  maxHostQueues?: number;
  /** Where the queues' connection errors go (BullMQ would print them on the console). */
  log?: StapleLogger;
}

/** Job states summed over every host queue (for metrics and `status`). */
export type JobCounts = Record<'waiting' | 'active' | 'delayed' | 'prioritized' | 'failed' | 'completed', number>;

const COUNTED: JobType[] = ['waiting', 'active', 'delayed', 'prioritized', 'failed', 'completed'];

/**
 * The enqueueing side: jobs of one certificate (jobId = fingerprint) or batches (`add` with
 * `planJobs`), in the queue of the host their first responder URL names (see host-queues.ts).
 * Queue handles are made on first use and kept.
 */
export class StapleQueue {
  readonly registry: HostRegistry;
  private readonly queues = new Map<string, Queue<QueuedJobData, QueuedJobResult>>();
  private readonly attempts: number;

  constructor(private readonly options: StapleQueueOptions) {
    this.attempts = options.attempts ?? QUEUE_DEFAULTS.attempts;
    this.registry = new HostRegistry(options.connection, options.prefix, options.maxHostQueues ?? QUEUE_DEFAULTS.maxHostQueues);
  }

  /** The BullMQ queue of a responder host (OVERFLOW_HOST for the shared one). */
  queueOf(host: string): Queue<QueuedJobData, QueuedJobResult> {
    let queue = this.queues.get(host);
    if (!queue) {
      queue = new Queue<QueuedJobData, QueuedJobResult>(hostQueueName(host), {
        connection: this.options.connection,
        prefix: this.options.prefix,
        // A cold start of 50K certificates emits ~200K events; keep enough for a lagging listener.
        streams: { events: { maxLen: 200_000 } },
      });
      const log = this.options.log ?? silentLogger;
      queue.on('error', (err) => log.warn({ err, host }, 'queue: Redis error (retrying)'));
      this.queues.set(host, queue);
    }
    return queue;
  }

  /**
   * The host queue of each target, registering the hosts (so workers find their queues): its
   * primary responder host, or OVERFLOW_HOST when that host cannot get a queue of its own.
   */
  async route(targets: readonly StapleJobData[]): Promise<Map<string, string>> {
    const primary = targets.map((target) => primaryHostOf(target));
    const routes = await this.registry.register(primary);
    return new Map(targets.map((target, i) => [target.fingerprint, routes.get(primary[i]!) ?? OVERFLOW_HOST]));
  }

  /**
   * Adds one job per target to its host's queue; returns the host queue of each (by fingerprint).
   * A target whose job is already queued there (same fingerprint) is not added twice: BullMQ
   * ignores a jobId it already holds. `urgent` (the relay's misses: a server is waiting) puts the
   * jobs at the head of their host's wait list, still under that host's budget. (BullMQ's `priority`
   * would not: prioritized jobs wait until the plain wait list is empty.)
   */
  async enqueue(
    targets: readonly StapleJobData[],
    opts: { urgent?: boolean; routes?: ReadonlyMap<string, string> } = {},
  ): Promise<Map<string, string>> {
    const routes = opts.routes ?? (await this.route(targets));
    await this.add(planJobs(targets, routes, 1), opts);
    return new Map(targets.map((target) => [target.fingerprint, routes.get(target.fingerprint) ?? OVERFLOW_HOST]));
  }

  /**
   * Adds planned jobs (`planJobs`: plain ones and batches) to their host queues, one `addBulk` per
   * host. A job id the queue already holds is ignored by BullMQ.
   */
  async add(jobs: readonly PlannedJob[], opts: { urgent?: boolean } = {}): Promise<void> {
    const byHost = new Map<string, PlannedJob[]>();
    for (const job of jobs) {
      const list = byHost.get(job.host);
      if (list) list.push(job);
      else byHost.set(job.host, [job]);
    }
    await Promise.all(
      [...byHost].map(([host, list]) =>
        this.queueOf(host).addBulk(
          list.map((job) => {
            const batch = job.targets.length > 1;
            const data: QueuedJobData = batch ? ({ targets: job.targets, settled: [] } satisfies StapleBatchData) : job.targets[0]!;
            return {
              name: batch ? FETCH_BATCH_JOB : FETCH_JOB,
              data,
              opts: {
                jobId: job.id,
                attempts: this.attempts,
                backoff: { type: 'staple' },
                removeOnComplete: true,
                removeOnFail: true,
                ...(opts.urgent ? { lifo: true } : {}),
              },
            };
          }),
        ),
      ),
    );
  }

  /** Every host with a queue (and the overflow queue). */
  hosts(): Promise<string[]> {
    return this.registry.hosts();
  }

  /** Jobs by state, summed over every host queue. */
  async jobCounts(): Promise<JobCounts> {
    const total: JobCounts = { waiting: 0, active: 0, delayed: 0, prioritized: 0, failed: 0, completed: 0 };
    const perHost = await Promise.all((await this.hosts()).map((host) => this.queueOf(host).getJobCounts(...COUNTED)));
    for (const counts of perHost) for (const state of COUNTED) total[state as keyof JobCounts] += counts[state] ?? 0;
    return total;
  }

  /**
   * Worker processes connected. Every worker process also works the overflow queue (so it is there
   * before any host has a queue): its BullMQ workers are the fleet's.
   */
  workersCount(): Promise<number> {
    return this.queueOf(OVERFLOW_HOST).getWorkersCount();
  }

  /** Drops old entries of the events streams once nobody waits on them (Redis memory per staple). */
  async trimEvents(keep = 1_000): Promise<void> {
    await Promise.all([...this.queues.values()].map((queue) => queue.trimEvents(keep)));
  }

  async close(): Promise<void> {
    // A BullMQ Queue closed before it is ready can reject with "Connection is closed" (bullmq#2686):
    // wait for it first (a queue that never got ready has nothing to close).
    await Promise.all(
      [...this.queues.values()].map(async (queue) => {
        await queue.waitUntilReady().catch(() => undefined);
        await queue.close();
      }),
    );
    this.queues.clear();
  }
}
