/**
 * StaplePool against a real Redis and BullMQ with a stand-in responder that answers at once and
 * records when each request went out: the order of the certificate store does not matter (a queue
 * per host), and the global ceiling holds over all hosts. Without Redis these skip locally and fail
 * under CI=true.
 */
import { randomBytes } from 'node:crypto';
import type { OcspClient, OcspFetchRequest, OcspFetchResult } from '@staplewarm/fetch';
import { StapleStore } from '@staplewarm/store';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { silentLogger, type StapleJobData } from '../jobs/job.js';
import { StapleQueue } from '../jobs/queue.js';
import { acceptingVerifier, testTarget } from '../testing/fixtures.js';
import { redisTestContext } from '../testing/redis.js';
import { StaplePool, type StaplePoolOptions } from './pool.js';

const ctx = await redisTestContext();

const target = testTarget;

/** Answers every request at once; records [host, time sent]. */
function recordingClient() {
  const sent: [host: string, at: number][] = [];
  const client = {
    fetch: (req: OcspFetchRequest): Promise<OcspFetchResult> => {
      const url = req.urls[0]!;
      sent.push([new URL(url).host, performance.now()]);
      return Promise.resolve({
        ok: true,
        response: { body: Buffer.alloc(1), url, method: 'GET', status: 200, elapsedMs: 1 },
        attempts: [],
      });
    },
  };
  return { client: client as unknown as OcspClient, sent };
}

describe.skipIf(!ctx.available)('StaplePool', () => {
  const open: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    for (const closable of open.splice(0).reverse()) await closable.close();
    await ctx.cleanup();
  });
  afterAll(() => ctx.close());

  async function run(jobs: StapleJobData[], options: Partial<StaplePoolOptions>) {
    const { client, sent } = recordingClient();
    const store = new StapleStore(ctx.redis, { prefix: ctx.prefix });
    const queue = new StapleQueue({ connection: ctx.redis, prefix: ctx.bull });
    const pool = new StaplePool({
      connection: ctx.redis,
      prefix: ctx.bull,
      hostSyncMs: 50,
      ...options,
      deps: { client, verifier: acceptingVerifier(), store, now: Date.now, log: silentLogger },
    });
    open.push(pool, queue);
    const done = new Set<string>();
    pool.on('completed', (job) => done.add(job.id!));
    await pool.start();
    await queue.enqueue(jobs); // in the store's order: every job of the first host first
    await pool.sync();
    const deadline = Date.now() + 20_000;
    while (done.size < jobs.length && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(done.size).toBe(jobs.length);
    return sent;
  }

  it('serves a store grouped by CA in parallel: a slow host never holds up a fast one queued behind it', async () => {
    const slow = `slow-${randomBytes(3).toString('hex')}.test`;
    const fast = `fast-${randomBytes(3).toString('hex')}.test`;
    const jobs = [
      ...Array.from({ length: 40 }, (_, i) => target(`s${i}-${slow}`, `http://${slow}/`)),
      ...Array.from({ length: 30 }, (_, i) => target(`f${i}-${fast}`, `http://${fast}/`)),
    ];
    // 10/s: the slow host's 40 requests take ~4 s. With 8 slots per worker, one shared queue would
    // fill every slot with slow jobs and start the fast host's only as they finish, ~1.6 s later.
    const sent = await run(jobs, { hostRates: { [slow]: 10, [fast]: 400 }, concurrency: 8 });
    const times = (host: string) => sent.filter(([h]) => h === host).map(([, at]) => at);
    const fastDone = Math.max(...times(fast));
    const slowTimes = times(slow);
    expect(slowTimes.filter((at) => at < fastDone).length).toBeLessThan(10); // fast done within the slow host's first second
    expect(Math.max(...slowTimes) - Math.min(...slowTimes)).toBeGreaterThan(3_000); // slow kept its own pace
  });

  it('shares the global ceiling out over the hosts with work and never passes it', async () => {
    const hosts = Array.from({ length: 3 }, (_, i) => `ceiling${i}-${randomBytes(3).toString('hex')}.test`);
    const jobs = hosts.flatMap((host) => Array.from({ length: 40 }, (_, i) => target(`${i}-${host}`, `http://${host}/`)));
    // Each host alone may do 500/s (the default); together they may do 150/s: 50/s each.
    const sent = await run(jobs, { rate: 150 });
    const at = sent.map(([, t]) => t).sort((a, b) => a - b);
    // 120 requests at 150/s take about 0.8 s; the lease grace lets each host run ~100 ms ahead.
    expect(at.at(-1)! - at[0]!).toBeGreaterThan(((120 - 3 * 10) / 150) * 1000);
    for (const host of hosts) {
      const mine = sent.filter(([h]) => h === host).map(([, t]) => t);
      const span = Math.max(...mine) - Math.min(...mine);
      // 40 requests at 50/s: about 0.8 s, not the 0.08 s its own budget would allow.
      expect(span).toBeGreaterThan(500);
    }
  });
});
