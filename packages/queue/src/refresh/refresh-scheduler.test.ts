/**
 * The scheduler and its listener against a real Redis and real BullMQ (no HTTP: a plain Worker
 * plays the fetch). Without Redis these skip locally and fail under CI=true.
 */
import { createHash } from 'node:crypto';
import type { Staple } from '@staplewarm/ocsp';
import { StapleStore } from '@staplewarm/store';
import { UnrecoverableError, Worker } from 'bullmq';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hostQueueName } from '../jobs/host-queues.js';
import type { QueuedJobData, QueuedJobResult, StapleBatchResult, StapleJobData, StapleJobResult } from '../jobs/job.js';
import { planJobs } from '../jobs/plan.js';
import { StapleQueue } from '../jobs/queue.js';
import { OLDER_RESPONSE, RefreshListener } from './refresh-listener.js';
import { RefreshRecords } from './refresh-records.js';
import { RefreshScheduler, fingerprintOfJob, refreshJobId } from './refresh-scheduler.js';
import { DEFAULT_REFRESH_POLICY, refreshDueAt, retryDelayAfter, type RefreshPolicy } from './schedule.js';
import { bullPrefix, deletePrefix, randomPrefix, redisTestContext } from '../testing/redis.js';

const MINUTE = 60_000;
const DAY = 1_440 * MINUTE;
const policy: RefreshPolicy = { ...DEFAULT_REFRESH_POLICY, retryBaseMs: 60_000, retryMinMs: 30_000 };

const ctx = await redisTestContext();

function target(label: string): StapleJobData {
  return {
    fingerprint: createHash('sha256').update(label).digest('hex'),
    names: [`${label}.example.test`],
    mustStaple: false,
    certNotAfter: Date.now() + 60 * DAY,
    ocspUrls: ['http://127.0.0.1:9/'],
    certId: { hashAlgorithm: 'sha1', issuerNameHash: 'aa', issuerKeyHash: 'bb', serialNumber: '01' },
    request: 'MAA=',
    issuerSpki: 'MAA=',
    subject: `CN=${label}`,
  };
}

function staple(thisUpdate: number): Staple {
  return {
    der: Buffer.from([0x30, 0x03, 0x0a, 0x01, 0x00]),
    status: 'good',
    thisUpdate: new Date(thisUpdate),
    nextUpdate: new Date(thisUpdate + 7 * DAY),
    producedAt: new Date(thisUpdate),
    expiresAt: new Date(thisUpdate + 7 * DAY),
    certId: { hashAlgorithm: 'sha1', issuerNameHash: 'aa', issuerKeyHash: 'bb', serialNumber: '01' },
    signer: 'issuer',
  };
}

describe.skipIf(!ctx.available)('RefreshScheduler', () => {
  let root: string;
  let store: StapleStore;
  let queue: StapleQueue;
  let scheduler: RefreshScheduler;
  const qp = () => bullPrefix(root);
  // Every target here names the same responder: one host queue.
  const hostQueue = () => queue.queueOf('127.0.0.1:9');
  const newScheduler = () => new RefreshScheduler({ queue, store, connection: ctx.redis, prefix: qp(), policy });
  const jobOf = async (fp: string) => {
    const id = await hostQueue().getDeduplicationJobId(fp);
    return id ? hostQueue().getJob(id) : undefined;
  };
  const jobCount = async () => (await hostQueue().getJobCounts('waiting', 'delayed', 'active', 'prioritized')) as Record<string, number>;
  const total = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

  /** A verified staple for `t` as a worker stores it. */
  const storeStaple = (t: StapleJobData, thisUpdate: number) =>
    store.write({
      fingerprint: t.fingerprint,
      staple: staple(thisUpdate),
      responder: 'http://r.test/',
      names: t.names,
      mustStaple: false,
      certNotAfter: t.certNotAfter,
      fetchedAt: new Date(),
    });
  /** Runs the job `jobId` through a plain Worker (`work` plays the fetch) until it has completed. */
  const runUntilCompleted = async (jobId: string, work: () => Promise<StapleJobResult>) => {
    const workerConnection = ctx.redis.duplicate();
    const worker = new Worker<StapleJobData, StapleJobResult>(hostQueueName('127.0.0.1:9'), work, {
      connection: workerConnection,
      prefix: qp(),
    });
    try {
      const deadline = Date.now() + 10_000;
      while ((await hostQueue().getJobState(jobId)) !== 'completed' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(await hostQueue().getJobState(jobId)).toBe('completed');
    } finally {
      await worker.close();
      workerConnection.disconnect();
    }
  };

  beforeEach(() => {
    // A prefix per test: each starts with an empty queue and no records.
    root = randomPrefix();
    store = new StapleStore(ctx.redis, { prefix: root });
    queue = new StapleQueue({ connection: ctx.redis, prefix: qp() });
    scheduler = newScheduler();
  });

  afterEach(async () => {
    await hostQueue().obliterate({ force: true });
    await queue.close();
    await deletePrefix(ctx.redis, root);
  });

  afterAll(() => ctx.close());

  it('gives each new certificate one job due at once, however often and by how many processes it is tracked', async () => {
    const targets = ['a', 'b', 'c'].map(target);
    expect(await scheduler.track(targets)).toEqual({ tracked: 3, added: 3, removed: 0, scheduled: 3, dueNow: 3 });
    expect(await scheduler.track(targets)).toMatchObject({ added: 0, scheduled: 0 });
    expect(await newScheduler().track(targets)).toMatchObject({ added: 3, scheduled: 0 }); // another serve process
    expect(total(await jobCount())).toBe(3);
    const job = await jobOf(targets[0]?.fingerprint ?? '');
    expect(job?.id).toBe(refreshJobId(targets[0]?.fingerprint ?? '', 0));
    expect(job?.data).toMatchObject({ names: ['a.example.test'] });
  });

  it('moves a certificate to the refresh point of its newer staple, replacing its delayed job', async () => {
    const t = target('fresh');
    const write = (thisUpdate: number) => storeStaple(t, thisUpdate);
    const dueOf = (thisUpdate: number) =>
      refreshDueAt(
        { hasStaple: true, thisUpdate: new Date(thisUpdate), nextUpdate: new Date(thisUpdate + 7 * DAY) },
        t.fingerprint,
        policy,
      ) ?? 0;
    const older = Date.now() - 60 * MINUTE;
    await write(older);
    await scheduler.track([t]);
    expect((await jobOf(t.fingerprint))?.id).toBe(refreshJobId(t.fingerprint, dueOf(older)));

    const newer = Date.now() - MINUTE; // refreshed by someone else (a warm run)
    await write(newer);
    expect(await scheduler.track([t])).toMatchObject({ scheduled: 1, dueNow: 0 });
    const job = await jobOf(t.fingerprint);
    expect(job?.id).toBe(refreshJobId(t.fingerprint, dueOf(newer)));
    expect(await job?.getState()).toBe('delayed');
    expect(Math.abs((job?.timestamp ?? 0) + (job?.delay ?? 0) - dueOf(newer))).toBeLessThan(5_000);
    expect(total(await jobCount())).toBe(1);
  });

  it('removes the job of a certificate that is no longer tracked', async () => {
    const [keep, drop] = [target('keep'), target('drop')];
    await scheduler.track([keep, drop]);
    expect(await scheduler.track([keep])).toMatchObject({ removed: 1, tracked: 1 });
    expect(await jobOf(drop.fingerprint)).toBeUndefined();
    expect(total(await jobCount())).toBe(1);
  });

  it('counts a settled attempt once, and schedules the retry after it', async () => {
    const t = target('settle');
    await scheduler.track([t]);
    await hostQueue().remove(refreshJobId(t.fingerprint, 0)); // as if a worker had run it
    const at = Date.now();
    await scheduler.settle([{ fingerprint: t.fingerprint, at }]);
    await scheduler.settle([{ fingerprint: t.fingerprint, at }]); // the same event, seen by a second process
    await scheduler.settle([{ fingerprint: t.fingerprint, at: at - 1_000 }]); // a late, older one
    const records = await new RefreshRecords(ctx.redis, qp()).read([t.fingerprint]);
    expect(records.get(t.fingerprint)).toEqual({ at, streak: 1 });
    const retryAt = at + retryDelayAfter(1, at, { hasStaple: false }, t.fingerprint, policy);
    const job = await jobOf(t.fingerprint);
    expect(job?.id).toBe(refreshJobId(t.fingerprint, retryAt));
    expect(await job?.getState()).toBe('delayed');
    expect(await ctx.redis.pttl(new RefreshRecords(ctx.redis, qp()).key(t.fingerprint))).toBeGreaterThan(DAY);
  });

  it('gives a certificate tracked again a new job when its last one finished while it was not tracked', async () => {
    const t = target('comeback');
    const records = new RefreshRecords(ctx.redis, qp());
    await scheduler.track([t]);
    const first = refreshJobId(t.fingerprint, 0);
    // The certificate is dropped (a removal, an accepted shrink) while a worker runs its job: the
    // job finishes, and no process records the attempt.
    await runUntilCompleted(first, async () => {
      await scheduler.track([]);
      return { outcome: 'kept', status: 'good', responder: 'http://r.test/', reason: 'older' };
    });
    expect(await records.read([t.fingerprint])).toEqual(new Map());

    // Back again: its slot from the old record is the job that just ran (kept 30 s, so BullMQ
    // would refuse the id); the attempt is recorded and the next one scheduled after it.
    expect(await scheduler.track([t])).toMatchObject({ added: 1, scheduled: 1 });
    const finishedOn = (await hostQueue().getJob(first))?.finishedOn ?? 0;
    expect((await records.read([t.fingerprint])).get(t.fingerprint)).toEqual({ at: finishedOn, streak: 1 });
    const job = await jobOf(t.fingerprint);
    expect(job?.id).toBe(
      refreshJobId(t.fingerprint, finishedOn + retryDelayAfter(1, finishedOn, { hasStaple: false }, t.fingerprint, policy)),
    );
    expect(await job?.getState()).toBe('delayed');
  });

  it('does not fetch again a certificate whose job another process finished while this one read its state', async () => {
    const t = target('raced');
    const first = refreshJobId(t.fingerprint, 0);
    await scheduler.track([t]); // process A
    // A's worker fetches and stores the staple, and its job finishes.
    const thisUpdate = Date.now() - MINUTE;
    await runUntilCompleted(first, async () => {
      await storeStaple(t, thisUpdate);
      return { outcome: 'stored', status: 'good', responder: 'http://r.test/' };
    });
    // Process B starts: its scan read the certificate's state just before A's worker stored the
    // staple (its first read sees none), and finds A's job finished in the slot that state gives.
    let reads = 0;
    const staleOnce = new (class extends StapleStore {
      override async states(fps: string[]) {
        return reads++ === 0 ? new Map() : super.states(fps);
      }
    })(ctx.redis, { prefix: root });
    const b = new RefreshScheduler({ queue, store: staleOnce, connection: ctx.redis, prefix: qp(), policy });
    expect(await b.track([t])).toMatchObject({ added: 1, dueNow: 0 });
    // Its next job is the staple's refresh, not a second fetch now.
    const due =
      refreshDueAt(
        { hasStaple: true, thisUpdate: new Date(thisUpdate), nextUpdate: new Date(thisUpdate + 7 * DAY) },
        t.fingerprint,
        policy,
      ) ?? 0;
    const job = await jobOf(t.fingerprint);
    expect(job?.id).toBe(refreshJobId(t.fingerprint, due));
    expect(await job?.getState()).toBe('delayed');
    expect(reads).toBe(2);
  });

  it('ignores settlements of certificates it does not track', async () => {
    expect(await scheduler.settle([{ fingerprint: target('stranger').fingerprint, at: Date.now() }])).toBe(0);
    expect(total(await jobCount())).toBe(0);
  });

  it('reads fingerprints back from refresh and warm job ids', () => {
    const fp = target('x').fingerprint;
    expect(fingerprintOfJob(refreshJobId(fp, 1_700_000_000_123))).toBe(fp);
    expect(fingerprintOfJob(fp)).toBe(fp);
    expect(fingerprintOfJob('something-else')).toBeUndefined();
  });

  it('schedules the next attempt when a worker anywhere settles a job, and notes refused older responses', async () => {
    const [failing, stale] = [target('fails'), target('stale')];
    const listener = new RefreshListener({ connection: ctx.redis, prefix: qp(), scheduler, queue, store, flushMs: 20 });
    await listener.start();
    const worker = new Worker<StapleJobData, StapleJobResult>(
      hostQueueName('127.0.0.1:9'),
      async (job) => {
        if (job.data.fingerprint === failing.fingerprint) throw new UnrecoverableError('http-500: responder down');
        return { outcome: 'kept', status: 'good', responder: 'http://r.test/', reason: 'older' };
      },
      { connection: ctx.redis, prefix: qp() },
    );
    try {
      await scheduler.track([failing, stale]);
      const records = new RefreshRecords(ctx.redis, qp());
      const deadline = Date.now() + 10_000;
      while ((await records.read([failing.fingerprint, stale.fingerprint])).size < 2 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
      }
      await listener.flush();
      await scheduler.idle();
      const settled = await records.read([failing.fingerprint, stale.fingerprint]);
      expect(settled.get(failing.fingerprint)?.streak).toBe(1);
      expect(settled.get(stale.fingerprint)?.streak).toBe(1);
      for (const t of [failing, stale]) {
        const job = await jobOf(t.fingerprint);
        expect(await job?.getState()).toBe('delayed');
        expect(job?.id).not.toBe(refreshJobId(t.fingerprint, 0));
      }
      const { meta } = await store.get(stale.fingerprint);
      expect(meta?.lastErrorCode).toBe(OLDER_RESPONSE);
    } finally {
      await worker.close();
      await listener.close();
    }
  });
  it('settles each tracked certificate of a batch that a warm run queued, and notes its refused older responses', async () => {
    const [failing, stale, stranger] = [target('batch-fails'), target('batch-stale'), target('batch-stranger')];
    const listener = new RefreshListener({ connection: ctx.redis, prefix: qp(), scheduler, queue, store, flushMs: 20 });
    // The batch waits in a queue of its own host, so that only it is worked here (the scheduler's
    // own jobs wait in 127.0.0.1:9's).
    const host = 'warm-batch.test';
    await queue.registry.register([host]);
    await listener.start();
    const worker = new Worker<QueuedJobData, QueuedJobResult>(
      hostQueueName(host),
      async (): Promise<StapleBatchResult> => ({
        batch: [
          { fingerprint: failing.fingerprint, state: 'failed', code: 'http-500', reason: 'http-500: responder down' },
          {
            fingerprint: stale.fingerprint,
            state: 'completed',
            result: { outcome: 'kept', status: 'good', responder: 'http://r.test/', reason: 'older' },
          },
          {
            fingerprint: stranger.fingerprint,
            state: 'completed',
            result: { outcome: 'stored', status: 'good', responder: 'http://r.test/' },
          },
        ],
      }),
      { connection: ctx.redis, prefix: qp() },
    );
    try {
      await scheduler.track([failing, stale]);
      const targets = [failing, stale, stranger];
      await queue.add(planJobs(targets, new Map(targets.map((t) => [t.fingerprint, host])), 16));
      const records = new RefreshRecords(ctx.redis, qp());
      const deadline = Date.now() + 10_000;
      while ((await records.read([failing.fingerprint, stale.fingerprint])).size < 2 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
      }
      await listener.flush();
      await scheduler.idle();
      const settled = await records.read([failing.fingerprint, stale.fingerprint, stranger.fingerprint]);
      expect(settled.get(failing.fingerprint)?.streak).toBe(1);
      expect(settled.get(stale.fingerprint)?.streak).toBe(1);
      expect(settled.has(stranger.fingerprint)).toBe(false); // not tracked by this scheduler
      expect((await store.get(stale.fingerprint)).meta?.lastErrorCode).toBe(OLDER_RESPONSE);
    } finally {
      await worker.close();
      await listener.close();
    }
  });
});
