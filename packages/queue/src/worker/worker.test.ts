/**
 * StaplePool against a real Redis and BullMQ, with a scripted responder (the OcspClient and the
 * verifier are stand-ins): 429s hand jobs back without spending attempts, pause only their host, and
 * are observed. Without Redis these skip locally and fail under CI=true.
 */
import { randomBytes } from 'node:crypto';
import { FetchError, type OcspClient, type OcspFetchRequest, type OcspFetchResult } from '@staplewarm/fetch';
import { StapleStore } from '@staplewarm/store';
import type { Job } from 'bullmq';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { silentLogger, type QueuedJobData, type QueuedJobResult, type StapleJobData } from '../jobs/job.js';
import type { AttemptOutcome, StapleObserver } from './observer.js';
import { StapleQueue } from '../jobs/queue.js';
import { acceptingVerifier, testTarget } from '../testing/fixtures.js';
import { redisTestContext } from '../testing/redis.js';
import { HostLeaseError } from '../hosts/host-lease.js';
import { HostLimiter } from '../hosts/host-limiter.js';
import { StaplePool } from './pool.js';

const ctx = await redisTestContext();

const target = testTarget;

const verifier = acceptingVerifier();

/** A responder scripted per URL: each answer is taken in turn, the last one repeats. */
function scriptedClient(script: Record<string, ('429' | '500' | 'timeout' | 'refused' | 'ok')[]>, retryAfterMs?: number, latencyMs = 0) {
  const calls: string[] = [];
  const client = {
    fetch: async (req: OcspFetchRequest): Promise<OcspFetchResult> => {
      const url = req.urls[0]!;
      const answers = script[url]!;
      const answer = answers[Math.min(calls.filter((u) => u === url).length, answers.length - 1)];
      calls.push(url);
      if (latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, latencyMs));
      if (answer === 'ok')
        return { ok: true, response: { body: Buffer.alloc(1), url, method: 'GET', status: 200, elapsedMs: 1 }, attempts: [] };
      const error =
        answer === '429'
          ? new FetchError(
              'rate-limited',
              url,
              `${url}: HTTP 429`,
              retryAfterMs === undefined ? { status: 429 } : { status: 429, retryAfterMs },
            )
          : answer === 'timeout'
            ? new FetchError('timeout', url, `${url}: no answer`)
            : answer === 'refused'
              ? new FetchError('address-refused', url, `${url}: 127.0.0.1 (loopback) is refused by the responder address policy`)
              : new FetchError('http-status', url, `${url}: HTTP 500`, { status: 500 });
      return { ok: false, error, attempts: [error] };
    },
  };
  return { client: client as unknown as OcspClient, calls };
}

function recordingObserver() {
  const fetches: [string, AttemptOutcome][] = [];
  const pauses: [string, number][] = [];
  const observer: StapleObserver = {
    fetchObserved: (host, outcome) => void fetches.push([host, outcome]),
    rateLimited: (host, seconds) => void pauses.push([host, seconds]),
    revocationSeen: () => {},
  };
  return { observer, fetches, pauses };
}

describe.skipIf(!ctx.available)('StapleWorker and 429', () => {
  const { prefix, bull } = ctx;
  const open: { close(): Promise<void> }[] = [];

  async function start(opts: {
    client: OcspClient;
    observer?: StapleObserver;
    rate: number;
    attempts: number;
    jobs: StapleJobData[];
    concurrency?: number;
    hostLimiter?: HostLimiter;
  }) {
    const store = new StapleStore(ctx.redis, { prefix });
    const queue = new StapleQueue({ connection: ctx.redis, prefix: bull, attempts: opts.attempts });
    const worker = new StaplePool({
      connection: ctx.redis,
      prefix: bull,
      rate: opts.rate,
      hostSyncMs: 50,
      ...(opts.concurrency ? { concurrency: opts.concurrency } : {}),
      ...(opts.hostLimiter ? { hostLimiter: opts.hostLimiter } : {}),
      backoff: { baseMs: 20, maxMs: 40 },
      hostRatePolicy: { backoff: { baseMs: 50, maxMs: 100 } },
      deps: {
        client: opts.client,
        verifier,
        store,
        now: Date.now,
        log: silentLogger,
        ...(opts.observer ? { observer: opts.observer } : {}),
      },
    });
    open.push(worker, queue);
    const settled: { id: string; state: 'completed' | 'failed'; attemptsMade: number; reason?: string }[] = [];
    worker.on('completed', (job: Job<QueuedJobData, QueuedJobResult>) =>
      settled.push({ id: job.id!, state: 'completed', attemptsMade: job.attemptsMade }),
    );
    worker.on('failed', (job: Job<QueuedJobData, QueuedJobResult> | undefined) => {
      if (job) settled.push({ id: job.id!, state: 'failed', attemptsMade: job.attemptsMade, reason: job.failedReason });
    });
    await worker.start();
    await queue.enqueue(opts.jobs);
    await worker.sync(); // the pool opens the new host queues' workers now, not at its next round
    return { store, queue, worker, settled };
  }

  async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
    for (const deadline = Date.now() + timeoutMs; !(await condition());) {
      if (Date.now() > deadline) throw new Error('condition not met in time');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  afterEach(async () => {
    for (const closable of open.splice(0).reverse()) await closable.close();
    await ctx.cleanup();
  });
  afterAll(() => ctx.close());

  it('never spends an attempt on a 429, with or without Retry-After', async () => {
    for (const retryAfterMs of [30, undefined]) {
      const url = `http://limited-${randomBytes(3).toString('hex')}.test/`;
      const { client, calls } = scriptedClient({ [url]: ['429', '429', '500'] }, retryAfterMs);
      const watch = recordingObserver();
      const job = target(`attempts-${randomBytes(3).toString('hex')}`, url);
      const { settled, store } = await start({ client, observer: watch.observer, rate: 0, attempts: 2, jobs: [job] });
      await until(() => settled.some((s) => s.attemptsMade === 2));
      // Two 429s handed the job back; the two 500s were its two attempts ('failed' fires for each).
      expect(settled).toEqual(
        [1, 2].map((attemptsMade) => ({ id: job.fingerprint, state: 'failed', attemptsMade, reason: expect.stringMatching(/^http-500:/) })),
      );
      expect(calls).toHaveLength(4);
      expect(watch.fetches.map(([, outcome]) => outcome)).toEqual(['http_429', 'http_429', 'http_error', 'http_error']);
      expect(watch.pauses.length).toBeGreaterThanOrEqual(1);
      expect((await store.get(job.fingerprint)).meta?.lastErrorCode).toBe('http-500');
      for (const closable of open.splice(0).reverse()) await closable.close();
    }
  });

  it('counts a burst of 429s as one episode: one pause, then every job completes on its first attempt', async () => {
    const url = `http://only-${randomBytes(3).toString('hex')}.test/`;
    // Answers take 30 ms: the three 429s are all in flight before the first comes back.
    const { client } = scriptedClient({ [url]: ['429', '429', '429', 'ok'] }, 100, 30);
    const watch = recordingObserver();
    const jobs = Array.from({ length: 40 }, (_, i) => target(`only-${i}-${randomBytes(3).toString('hex')}`, url));
    const { settled } = await start({ client, observer: watch.observer, rate: 1_000, attempts: 1, jobs });
    await until(() => settled.length === jobs.length);
    expect(settled.every((s) => s.state === 'completed' && s.attemptsMade === 1)).toBe(true);
    expect(watch.pauses).toHaveLength(1);
    expect(watch.pauses[0]![1]).toBeCloseTo(0.1, 2);
  });

  it('keeps serving other hosts while one answers only 429', async () => {
    const [limited, healthy] = [
      `http://busy-${randomBytes(3).toString('hex')}.test/`,
      `http://fine-${randomBytes(3).toString('hex')}.test/`,
    ];
    const { client } = scriptedClient({ [limited]: ['429'], [healthy]: ['ok'] }, 60_000);
    const jobs = Array.from({ length: 60 }, (_, i) => target(`mix-${i}-${randomBytes(3).toString('hex')}`, i % 2 ? limited : healthy));
    const { queue, settled } = await start({ client, rate: 1_000, attempts: 1, jobs });
    await until(() => settled.length === 30);
    expect(settled.every((s) => s.state === 'completed')).toBe(true);
    // The limited host's certificates wait for the end of its pause, none failed.
    await until(async () => (await queue.queueOf(new URL(limited).host).getDelayedCount()) === 30);
  });

  it('fails a certificate whose responder address is refused at once (no retry) and records why', async () => {
    const url = `http://refused-${randomBytes(3).toString('hex')}.test/`;
    const { client, calls } = scriptedClient({ [url]: ['refused'] });
    const job = target(`refused-${randomBytes(3).toString('hex')}`, url);
    const { settled, store } = await start({ client, rate: 0, attempts: 3, jobs: [job] });
    await until(() => settled.length === 1);
    expect(settled).toEqual([
      { id: job.fingerprint, state: 'failed', attemptsMade: 1, reason: expect.stringMatching(/^address-refused: /) },
    ]);
    expect(calls).toEqual([url]);
    const { meta } = await store.get(job.fingerprint);
    expect(meta?.lastErrorCode).toBe('address-refused');
    expect(meta?.lastError).toContain('127.0.0.1 (loopback)');
  });

  it('hands a job back without an attempt when its first host answered 429 and the next failed, then fetches it', async () => {
    const [limited, broken] = [`http://l-${randomBytes(3).toString('hex')}.test/`, `http://b-${randomBytes(3).toString('hex')}.test/`];
    const { client, calls } = scriptedClient({ [limited]: ['429', 'ok'], [broken]: ['500'] }, 50);
    const watch = recordingObserver();
    const job = target(`failover-${randomBytes(3).toString('hex')}`, [limited, broken]);
    const { settled } = await start({ client, observer: watch.observer, rate: 0, attempts: 1, jobs: [job] });
    await until(() => settled.length === 1);
    // One attempt allowed, and it was not spent by the round that ended in a 429 and a 500.
    expect(settled).toEqual([{ id: job.fingerprint, state: 'completed', attemptsMade: 1 }]);
    expect(calls).toEqual([limited, broken, limited]);
    expect(watch.pauses.map(([host]) => host)).toEqual([new URL(limited).host]);
  });

  it('stops sending to a host that does not answer, failing its attempts at once', async () => {
    const [hanging, healthy] = [
      `http://hang-${randomBytes(3).toString('hex')}.test/`,
      `http://fine-${randomBytes(3).toString('hex')}.test/`,
    ];
    // The hanging host times out after 300 ms, every time.
    const { client, calls } = scriptedClient({ [hanging]: ['timeout'], [healthy]: ['ok'] }, undefined, 300);
    // 16 slots per host queue: without the breaker, the hanging host's 100 jobs would each hold one
    // for a timeout, 16 at a time, and all 100 would be sent.
    const jobs = Array.from({ length: 200 }, (_, i) => target(`hang-${i}-${randomBytes(3).toString('hex')}`, i % 2 ? hanging : healthy));
    const { settled } = await start({ client, rate: 0, attempts: 1, jobs, concurrency: 16 });
    await until(() => settled.length === jobs.length);
    expect(settled.filter((s) => s.state === 'completed')).toHaveLength(100);
    const failed = settled.filter((s) => s.state === 'failed');
    expect(failed).toHaveLength(100);
    // Only the requests already out when the breaker opened went to the hanging host.
    expect(failed.filter((s) => s.reason?.startsWith('host-down:')).length).toBeGreaterThan(0);
    expect(calls.filter((url) => url === hanging).length).toBeLessThan(100);
  });

  it("records a limiter failure (no lease from Redis) as the attempt's lastError", async () => {
    const url = `http://lease-${randomBytes(3).toString('hex')}.test/`;
    const { client, calls } = scriptedClient({ [url]: ['ok'] });
    class NoLease extends HostLimiter {
      override acquire(): Promise<never> {
        return Promise.reject(new HostLeaseError(`no lease for ${new URL(url).host} within 30000 ms`));
      }
    }
    const hostLimiter = new NoLease({ connection: ctx.redis, prefix: bull });
    open.push({ close: () => hostLimiter.close() });
    const job = target(`lease-${randomBytes(3).toString('hex')}`, url);
    const { settled, store } = await start({ client, rate: 0, attempts: 1, jobs: [job], hostLimiter });
    await until(() => settled.length === 1);
    expect(settled).toEqual([
      { id: job.fingerprint, state: 'failed', attemptsMade: 1, reason: expect.stringMatching(/^host-lease-timeout: /) },
    ]);
    expect(calls).toEqual([]);
    expect((await store.get(job.fingerprint)).meta?.lastErrorCode).toBe('host-lease-timeout');
  });
});
