/**
 * JobTracker against a real Redis and BullMQ: it waits for jobs settled by any worker, and gives up
 * when its caller's deadline passes. Without Redis these skip locally and fail under CI=true.
 */
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { UnrecoverableError, Worker } from 'bullmq';
import { afterAll, describe, expect, it } from 'vitest';
import { hostQueueName } from './host-queues.js';
import type { QueuedJobData, QueuedJobResult, StapleBatchData, StapleBatchResult, StapleJobData, StapleJobResult } from './job.js';
import { planJobs } from './plan.js';
import { StapleQueue } from './queue.js';
import { GONE_GRACE_MS, JobTracker, type LocalSettlements } from './tracker.js';
import { redisTestContext } from '../testing/redis.js';

const ctx = await redisTestContext();

function target(label: string): StapleJobData {
  return {
    fingerprint: createHash('sha256').update(label).digest('hex'),
    names: [`${label}.example.test`],
    mustStaple: false,
    certNotAfter: Date.now() + 86_400_000,
    ocspUrls: ['http://127.0.0.1:9/'],
    certId: { hashAlgorithm: 'sha1', issuerNameHash: 'aa', issuerKeyHash: 'bb', serialNumber: '01' },
    request: 'MAA=',
    issuerSpki: 'MAA=',
    subject: `CN=${label}`,
  };
}

describe.skipIf(!ctx.available)('JobTracker', () => {
  afterAll(() => ctx.close());

  it('stops waiting when the signal aborts, and lists the jobs that did not settle', async () => {
    const queue = new StapleQueue({ connection: ctx.redis, prefix: `${ctx.bull}-deadline` });
    const tracker = new JobTracker({ connection: ctx.redis, prefix: `${ctx.bull}-deadline`, queue });
    try {
      const targets = [target('a'), target('b')];
      const routes = await queue.route(targets);
      await tracker.track(planJobs(targets, routes, 1));
      await queue.enqueue(targets, { routes }); // no worker: nothing settles
      const startedAt = Date.now();
      const settled = await tracker.wait({ idleCheckMs: 10_000, signal: AbortSignal.timeout(300) });
      const waited = Date.now() - startedAt;
      expect(waited).toBeGreaterThanOrEqual(250);
      expect(waited).toBeLessThan(2_000); // not the 10 s idle check: the abort wakes it
      expect(settled.size).toBe(0);
      expect(tracker.unsettled().sort()).toEqual(targets.map((t) => t.fingerprint).sort());
    } finally {
      await tracker.close();
      await queue.close();
    }
  });

  it('does not take a job still waiting, or handed back with a delay, for gone when it checks the queues', async () => {
    const prefix = `${ctx.bull}-waiting`;
    const queue = new StapleQueue({ connection: ctx.redis, prefix });
    const tracker = new JobTracker({ connection: ctx.redis, prefix, queue });
    try {
      const targets = [target('w'), target('x')];
      const routes = await queue.route(targets);
      await tracker.track(planJobs(targets, routes, 1));
      const hostQueue = queue.queueOf('127.0.0.1:9');
      await queue.enqueue([targets[0]!], { routes }); // no worker: it waits
      // The other is delayed, as a job handed back after a 429 is.
      await hostQueue.add('staple', targets[1]!, { jobId: targets[1]!.fingerprint, delay: 60_000 });
      // About ten checks of the queues (every 50 ms) before the deadline.
      const settled = await tracker.wait({ idleCheckMs: 50, signal: AbortSignal.timeout(600) });
      expect(settled.size).toBe(0);
      expect(await hostQueue.getJobState(targets[1]!.fingerprint)).toBe('delayed');
      // Removed behind the tracker's back (what removeOnComplete does): gone at the next check.
      await hostQueue.remove(targets[0]!.fingerprint);
      const after = await tracker.wait({ idleCheckMs: 50, signal: AbortSignal.timeout(2_000) });
      expect([...after.values()]).toEqual([{ id: targets[0]!.fingerprint, state: 'gone' }]);
      expect(tracker.unsettled()).toEqual([targets[1]!.fingerprint]);
    } finally {
      await tracker.close();
      await queue.close();
    }
  });

  it('resolves with every settlement when a worker elsewhere finishes the jobs before the deadline', async () => {
    const prefix = `${ctx.bull}-done`;
    const queue = new StapleQueue({ connection: ctx.redis, prefix });
    const tracker = new JobTracker({ connection: ctx.redis, prefix, queue });
    const workerConnection = ctx.redis.duplicate();
    const worker = new Worker<StapleJobData, StapleJobResult>(
      hostQueueName('127.0.0.1:9'),
      async () => ({ outcome: 'stored', status: 'good', responder: 'http://127.0.0.1:9/' }),
      { connection: workerConnection, prefix },
    );
    try {
      const targets = [target('c'), target('d')];
      const routes = await queue.route(targets);
      await tracker.track(planJobs(targets, routes, 1));
      await queue.enqueue(targets, { routes });
      const settled = await tracker.wait({ signal: AbortSignal.timeout(20_000) });
      expect([...settled.values()].map((s) => s.state)).toEqual(['completed', 'completed']);
      expect(tracker.unsettled()).toEqual([]);
    } finally {
      await worker.close();
      workerConnection.disconnect();
      await tracker.close();
      await queue.close();
    }
  });

  it('follows a pool in this process by its own events: a retried attempt is not the end, the final result is', async () => {
    const prefix = `${ctx.bull}-local`;
    const queue = new StapleQueue({ connection: ctx.redis, prefix, attempts: 2 });
    const workerConnection = ctx.redis.duplicate();
    let calls = 0;
    const worker = new Worker<StapleJobData, StapleJobResult>(
      hostQueueName('127.0.0.1:9'),
      async () => {
        if (++calls === 1) throw new Error('http-500: first attempt fails');
        return { outcome: 'stored', status: 'good', responder: 'http://127.0.0.1:9/' };
      },
      { connection: workerConnection, prefix, autorun: false, settings: { backoffStrategy: () => 10 } },
    );
    const tracker = new JobTracker({ connection: ctx.redis, prefix, queue, local: worker });
    try {
      const targets = [target('e')];
      const routes = await queue.route(targets);
      await tracker.track(planJobs(targets, routes, 1));
      await queue.enqueue(targets, { routes });
      void worker.run();
      const settled = await tracker.wait({ signal: AbortSignal.timeout(20_000) });
      expect(calls).toBe(2);
      expect([...settled.values()]).toEqual([
        {
          id: targets[0]!.fingerprint,
          state: 'completed',
          result: { outcome: 'stored', status: 'good', responder: 'http://127.0.0.1:9/' },
        },
      ]);
    } finally {
      await worker.close();
      workerConnection.disconnect();
      await tracker.close();
      await queue.close();
    }
  });

  it('does not take a job for gone when its hash is removed just before its completed event comes', async () => {
    const prefix = `${ctx.bull}-race`;
    const queue = new StapleQueue({ connection: ctx.redis, prefix });
    // The local pool's events, emitted by hand: BullMQ removes a finished job's hash, then emits.
    const local = new EventEmitter();
    const tracker = new JobTracker({ connection: ctx.redis, prefix, queue, local: local as unknown as LocalSettlements });
    try {
      const targets = [target('r')];
      const routes = await queue.route(targets);
      await tracker.track(planJobs(targets, routes, 1));
      await queue.enqueue(targets, { routes });
      const id = targets[0]!.fingerprint;
      await queue.queueOf('127.0.0.1:9').remove(id);
      const result: StapleJobResult = { outcome: 'stored', status: 'good', responder: 'http://127.0.0.1:9/' };
      // Checks every 50 ms find the job missing well before its event, 100 ms later (within the grace).
      setTimeout(() => local.emit('completed', { id }, result), 100);
      const settled = await tracker.wait({ idleCheckMs: 50, signal: AbortSignal.timeout(GONE_GRACE_MS + 2_000) });
      expect([...settled.values()]).toEqual([{ id, state: 'completed', result }]);
    } finally {
      await tracker.close();
      await queue.close();
    }
  });

  it('following a local pool, still sees within a second or two the jobs another process settled', async () => {
    const prefix = `${ctx.bull}-elsewhere`;
    const queue = new StapleQueue({ connection: ctx.redis, prefix });
    const [localConnection, otherConnection] = [ctx.redis.duplicate(), ctx.redis.duplicate()];
    const done = async (): Promise<StapleJobResult> => ({ outcome: 'stored', status: 'good', responder: 'http://127.0.0.1:9/' });
    // The local pool never takes a job; another process does them all.
    const local = new Worker<StapleJobData, StapleJobResult>(hostQueueName('127.0.0.1:9'), done, {
      connection: localConnection,
      prefix,
      autorun: false,
    });
    const tracker = new JobTracker({ connection: ctx.redis, prefix, queue, local });
    const other = new Worker<StapleJobData, StapleJobResult>(hostQueueName('127.0.0.1:9'), done, { connection: otherConnection, prefix });
    try {
      const targets = [target('f'), target('g')];
      const routes = await queue.route(targets);
      await tracker.track(planJobs(targets, routes, 1));
      await queue.enqueue(targets, { routes });
      const startedAt = Date.now();
      const settled = await tracker.wait({ signal: AbortSignal.timeout(20_000) });
      expect(Date.now() - startedAt).toBeLessThan(2_500);
      // Nothing was seen settle: the queues say the jobs are gone, the caller reads the store.
      expect([...settled.values()].map((s) => s.state)).toEqual(['gone', 'gone']);
    } finally {
      await Promise.all([local.close(), other.close()]);
      localConnection.disconnect();
      otherConnection.disconnect();
      await tracker.close();
      await queue.close();
    }
  });
  it('settles each certificate of a batch from its result, and those of a batch that failed as a whole as gone (the store knows)', async () => {
    const prefix = `${ctx.bull}-batches`;
    const queue = new StapleQueue({ connection: ctx.redis, prefix, attempts: 1 });
    const tracker = new JobTracker({ connection: ctx.redis, prefix, queue });
    const workerConnection = ctx.redis.duplicate();
    const [ok, bad, broken1, broken2] = [target('batch-ok'), target('batch-bad'), target('batch-broken-1'), target('batch-broken-2')];
    const worker = new Worker<QueuedJobData, QueuedJobResult>(
      hostQueueName('127.0.0.1:9'),
      async (job): Promise<StapleBatchResult> => {
        const data = job.data as StapleBatchData;
        if (data.targets.some((t) => t.fingerprint === broken1.fingerprint)) throw new UnrecoverableError('internal: Redis went away');
        return {
          batch: [
            {
              fingerprint: ok.fingerprint,
              state: 'completed',
              result: { outcome: 'stored', status: 'good', responder: 'http://127.0.0.1:9/' },
            },
            { fingerprint: bad.fingerprint, state: 'failed', code: 'http-500', reason: 'http-500: responder down' },
          ],
        };
      },
      { connection: workerConnection, prefix },
    );
    try {
      const routes = await queue.route([ok, bad, broken1, broken2]);
      const jobs = [...planJobs([ok, bad], routes, 16), ...planJobs([broken1, broken2], routes, 16)];
      expect(jobs.map((job) => job.targets.length)).toEqual([2, 2]);
      await tracker.track(jobs); // followed through the queues' events (no local pool)
      await queue.add(jobs);
      const settled = await tracker.wait({ signal: AbortSignal.timeout(20_000) });
      expect(settled.get(ok.fingerprint)).toMatchObject({ state: 'completed', result: { outcome: 'stored' } });
      expect(settled.get(bad.fingerprint)).toEqual({
        id: bad.fingerprint,
        state: 'failed',
        code: 'http-500',
        reason: 'http-500: responder down',
      });
      expect(settled.get(broken1.fingerprint)).toEqual({ id: broken1.fingerprint, state: 'gone' });
      expect(settled.get(broken2.fingerprint)).toEqual({ id: broken2.fingerprint, state: 'gone' });
      expect(tracker.unsettled()).toEqual([]);
    } finally {
      await worker.close();
      workerConnection.disconnect();
      await tracker.close();
      await queue.close();
    }
  });
});
