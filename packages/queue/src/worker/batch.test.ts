/**
 * Batch jobs against a real Redis and BullMQ (the OcspClient and the verifier are stand-ins): each
 * certificate of a batch is fetched, retried and reported on its own, and a retry or a hand-back
 * runs only the certificates that did not end. Without Redis these skip locally and fail under CI=true.
 */
import { randomBytes } from 'node:crypto';
import { FetchError, type OcspClient, type OcspFetchRequest, type OcspFetchResult } from '@staplewarm/fetch';
import { StapleStore } from '@staplewarm/store';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../jobs/job.js';
import { planJobs } from '../jobs/plan.js';
import { StapleQueue } from '../jobs/queue.js';
import { JobTracker } from '../jobs/tracker.js';
import { acceptingVerifier, testTarget } from '../testing/fixtures.js';
import { redisTestContext } from '../testing/redis.js';
import { StaplePool } from './pool.js';

const ctx = await redisTestContext();
const verifier = acceptingVerifier();

type Answer = 'ok' | '500' | '429' | 'refused';

/** Each URL answers its script in turn (the last answer repeats); every request is recorded. */
function scriptedClient(script: Record<string, Answer[]>) {
  const calls: string[] = [];
  const client = {
    fetch: (req: OcspFetchRequest): Promise<OcspFetchResult> => {
      const url = req.urls[0]!;
      const answers = script[url]!;
      const answer = answers[Math.min(calls.filter((u) => u === url).length, answers.length - 1)];
      calls.push(url);
      if (answer === 'ok')
        return Promise.resolve({
          ok: true,
          response: { body: Buffer.alloc(1), url, method: 'GET', status: 200, elapsedMs: 1 },
          attempts: [],
        });
      const error =
        answer === '429'
          ? new FetchError('rate-limited', url, `${url}: HTTP 429`, { status: 429, retryAfterMs: 50 })
          : answer === 'refused'
            ? new FetchError('address-refused', url, `${url}: refused by the responder address policy`)
            : new FetchError('http-status', url, `${url}: HTTP 500`, { status: 500 });
      return Promise.resolve({ ok: false, error, attempts: [error] });
    },
  };
  return { client: client as unknown as OcspClient, calls };
}

describe.skipIf(!ctx.available)('batch jobs', () => {
  const open: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    for (const closable of open.splice(0).reverse()) await closable.close();
    await ctx.cleanup();
  });
  afterAll(() => ctx.close());

  it('settles each certificate of a batch on its own, and runs again only those that did not end', async () => {
    const base = `http://batch-${randomBytes(3).toString('hex')}.test`;
    const script: Record<string, Answer[]> = {
      [`${base}/ok`]: ['ok'],
      [`${base}/flaky`]: ['500', 'ok'], // retryable: ok at its second attempt
      [`${base}/refused`]: ['refused'], // not retryable: fails at once
      [`${base}/limited`]: ['429', 'ok'], // handed back, then ok
      [`${base}/down`]: ['500'], // fails every attempt
    };
    const { client, calls } = scriptedClient(script);
    // Named after their URL (its host is random): certificates of this test only.
    const targets = Object.keys(script).map((url) => testTarget(url, url));
    const store = new StapleStore(ctx.redis, { prefix: ctx.prefix });
    const queue = new StapleQueue({ connection: ctx.redis, prefix: ctx.bull, attempts: 3 });
    const pool = new StaplePool({
      connection: ctx.redis,
      prefix: ctx.bull,
      hostSyncMs: 50,
      backoff: { baseMs: 20, maxMs: 40 },
      hostRatePolicy: { backoff: { baseMs: 50, maxMs: 100 } },
      deps: { client, verifier, store, now: Date.now, log: silentLogger },
    });
    const tracker = new JobTracker({ connection: ctx.redis, prefix: ctx.bull, queue, local: pool });
    open.push(tracker, pool, queue);

    const jobs = planJobs(targets, await queue.route(targets), 16);
    expect(jobs).toHaveLength(1); // one batch of the five
    await tracker.track(jobs);
    await pool.start();
    await queue.add(jobs);
    await pool.sync();
    const settled = await tracker.wait({ idleCheckMs: 200, signal: AbortSignal.timeout(15_000) });

    const byName = (name: string) => settled.get(targets.find((t) => t.ocspUrls[0] === `${base}/${name}`)!.fingerprint);
    expect(settled.size).toBe(5);
    for (const name of ['ok', 'flaky', 'limited'])
      expect(byName(name)).toMatchObject({ state: 'completed', result: { outcome: 'stored' } });
    expect(byName('refused')).toMatchObject({ state: 'failed', code: 'address-refused' });
    expect(byName('down')).toMatchObject({ state: 'failed', code: 'http-500' });
    // A certificate that ended is not fetched again when the batch comes back for the others.
    const count = (path: string) => calls.filter((url) => url === `${base}/${path}`).length;
    expect({ ok: count('ok'), flaky: count('flaky'), refused: count('refused'), limited: count('limited'), down: count('down') }).toEqual({
      ok: 1,
      flaky: 2,
      refused: 1,
      limited: 2,
      down: 3,
    });
    for (const name of ['ok', 'flaky', 'limited']) expect((await store.get(byName(name)!.id)).der).toBeDefined();
    expect((await store.get(byName('down')!.id)).meta?.lastErrorCode).toBe('http-500');
    expect(await queue.jobCounts()).toMatchObject({ waiting: 0, active: 0, delayed: 0, failed: 0, completed: 0 });
  });

  it('works at most `concurrency` certificates of a host at once, and takes batches for twice that many, not a job per place', async () => {
    const url = `http://held-${randomBytes(3).toString('hex')}.test/`;
    // Every answer waits until released: what is in flight stays in flight.
    const waiting: (() => void)[] = [];
    const client = {
      fetch: () =>
        new Promise<OcspFetchResult>((resolve) =>
          waiting.push(() =>
            resolve({ ok: true, response: { body: Buffer.alloc(1), url, method: 'GET', status: 200, elapsedMs: 1 }, attempts: [] }),
          ),
        ),
    } as unknown as OcspClient;
    const targets = Array.from({ length: 20 * 16 }, (_, i) => testTarget(`held-${i}-${url}`, url));
    const store = new StapleStore(ctx.redis, { prefix: ctx.prefix });
    const queue = new StapleQueue({ connection: ctx.redis, prefix: ctx.bull });
    const pool = new StaplePool({
      connection: ctx.redis,
      prefix: ctx.bull,
      concurrency: 32,
      defaultHostRate: 0,
      hostSyncMs: 50,
      deps: { client, verifier, store, now: Date.now, log: silentLogger },
    });
    const tracker = new JobTracker({ connection: ctx.redis, prefix: ctx.bull, queue, local: pool });
    open.push(tracker, pool, queue);
    const jobs = planJobs(targets, await queue.route(targets), 16);
    await tracker.track(jobs);
    await pool.start();
    await queue.add(jobs);
    await pool.sync();
    const hostQueue = queue.queueOf(jobs[0]!.host);
    for (const deadline = Date.now() + 10_000; waiting.length < 32 && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 300)); // room for more to start, were the bounds wrong
    expect(waiting).toHaveLength(32);
    // 2 x 32 certificates' worth of batches of 16: 4 taken, the 16 others left for other processes.
    expect(await hostQueue.getActiveCount()).toBe(4);
    expect(await hostQueue.getWaitingCount()).toBe(16);
    // Released as they come, every certificate is stored.
    const releasing = setInterval(() => waiting.splice(0).forEach((release) => release()), 10);
    try {
      const settled = await tracker.wait({ idleCheckMs: 200, signal: AbortSignal.timeout(20_000) });
      expect([...settled.values()].filter((s) => s.state === 'completed')).toHaveLength(targets.length);
    } finally {
      clearInterval(releasing);
    }
  });
});
