/**
 * The host limiter against a real Redis: two limiters stand for two worker processes sharing one
 * Redis. Without Redis these skip locally and fail under CI=true.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { HostLimiter, type HostLimiterOptions } from './host-limiter.js';
import { DEFAULT_HOST_RATE_POLICY } from './host-rate.js';
import { redisTestContext } from '../testing/redis.js';

const ctx = await redisTestContext();
const prefix = ctx.bull;
const limiters: HostLimiter[] = [];

function limiter(options: Partial<HostLimiterOptions> = {}): HostLimiter {
  const made = new HostLimiter({ connection: ctx.redis, prefix, syncIntervalMs: 50, ...options });
  limiters.push(made);
  return made;
}

describe.skipIf(!ctx.available)('HostLimiter', () => {
  afterEach(async () => {
    await Promise.all(limiters.splice(0).map((l) => l.close()));
    await ctx.cleanup();
  });
  afterAll(() => ctx.close());

  it('pauses a host for every process sharing the Redis, and cuts its rate once per episode', async () => {
    const [a, b] = [limiter({ defaultHostRate: 400 }), limiter({ defaultHostRate: 400 })];
    const host = `paused-${randomBytes(3).toString('hex')}.test`;
    const sentAt = Date.now();
    // Both processes got a 429 for requests sent at the same moment: one episode.
    const [first, second] = await Promise.all([
      a.rateLimited(host, { sentAt, retryAfterMs: 5_000 }),
      b.rateLimited(host, { sentAt, retryAfterMs: 5_000 }),
    ]);
    expect(first.pausedMs + second.pausedMs).toBeGreaterThanOrEqual(4_900);
    expect(Math.min(first.pausedMs, second.pausedMs)).toBeLessThan(200);
    await Promise.all([a.sync(), b.sync()]);
    expect(a.rate(host)).toBeCloseTo(400 * DEFAULT_HOST_RATE_POLICY.decrease, 6);
    expect(b.rate(host)).toBeCloseTo(400 * DEFAULT_HOST_RATE_POLICY.decrease, 6);

    // A third process that never saw a 429 learns the pause from Redis and does not send.
    const c = limiter({ defaultHostRate: 400 });
    c.pausedUntil(host);
    await c.sync();
    const permit = await c.acquire(host);
    expect(permit).toMatchObject({ granted: false, reason: 'paused' });
    expect(permit.granted ? 0 : permit.until).toBe(a.pausedUntil(host));

    // Other hosts are not paused.
    expect(await c.acquire(`other-${host}`)).toEqual({ granted: true });
  });

  it('spends one host budget across processes: requests never go faster than the host rate', async () => {
    const rate = 200;
    const host = `budget-${randomBytes(3).toString('hex')}.test`;
    const [a, b] = [limiter({ hostRates: { [host]: rate } }), limiter({ hostRates: { [host]: rate } })];
    const granted: number[] = [];
    const take = async (l: HostLimiter): Promise<void> => {
      const permit = await l.acquire(host);
      expect(permit.granted).toBe(true);
      granted.push(Date.now());
    };
    const n = 100;
    await Promise.all(Array.from({ length: n }, (_, i) => take(i % 2 ? a : b)));
    granted.sort((x, y) => x - y);
    // Like a token bucket of `rate` with a burst of 100 ms (the catch-up grace) plus the two leases
    // (4 requests each) reserved ahead: no 200 ms window holds more than 40 + 20 + 8 requests...
    const burst = rate / 10 + 2 * 4;
    for (let i = 0; i < n; i++) {
      const windowEnd = granted[i]! + 200;
      expect(granted.filter((t) => t >= granted[i]! && t < windowEnd).length).toBeLessThanOrEqual(rate / 5 + burst);
    }
    // ...and the whole run takes at least as long as the budget allows.
    expect(granted.at(-1)! - granted[0]!).toBeGreaterThanOrEqual(((n - burst) / rate) * 1000 - 10);
  });

  it('lets a host without any budget through at once, until it answers 429', async () => {
    const l = limiter({ defaultHostRate: 0 });
    const host = `free-${randomBytes(3).toString('hex')}.test`;
    for (let i = 0; i < 50; i++) expect(await l.acquire(host)).toEqual({ granted: true });
    expect(l.rate(host)).toBe(Infinity);
    const { pausedMs } = await l.rateLimited(host, { sentAt: Date.now(), retryAfterMs: 0 });
    expect(pausedMs).toBe(0);
    // The ceiling is what this process sent in the last second: 50.
    expect(l.rate(host)).toBeCloseTo(50 * DEFAULT_HOST_RATE_POLICY.decrease, 1);
  });

  it('hands jobs back instead of queueing them behind a slow host', async () => {
    const host = `slow-${randomBytes(3).toString('hex')}.test`;
    // 4 req/s: leases of one request each, 250 ms apart; at most maxQueueMs (500 ms) of that rate,
    // two requests, may wait in this process. The other ten go back to the queue until their slot.
    const l = limiter({ hostRates: { [host]: 4 }, maxQueueMs: 500 });
    const asked = Date.now();
    const permits = await Promise.all(Array.from({ length: 12 }, () => l.acquire(host)));
    expect(permits.filter((p) => p.granted)).toHaveLength(2);
    const backlog = permits.filter((p): p is Extract<typeof p, { granted: false }> => !p.granted);
    expect(backlog).toHaveLength(10);
    for (const permit of backlog) {
      expect(permit.reason).toBe('backlog');
      // Back after the requests already waiting: at least two slots (2 x 250 ms) from now.
      expect(permit.until).toBeGreaterThanOrEqual(asked + 2 * 250 - 5);
    }
  });

  it('caps a host at its share of the global ceiling', async () => {
    const host = `shared-${randomBytes(3).toString('hex')}.test`;
    const l = limiter({ defaultHostRate: 500 });
    expect(l.maxRate(host)).toBe(500);
    l.setShares(new Map([[host, 120]]), 300);
    expect(l.maxRate(host)).toBe(120);
    expect(l.rate(host)).toBe(120);
    l.setShares(new Map([[host, 10_000]]), 20_000);
    expect(l.maxRate(host)).toBe(500); // a share never raises a host above its own budget
  });

  it('caps a host the share-out did not include yet at the whole ceiling, not at its own budget', async () => {
    const host = `new-${randomBytes(3).toString('hex')}.test`;
    const l = limiter({ defaultHostRate: 500 });
    l.setShares(new Map([['other.test', 60]]), 100);
    expect(l.maxRate(host)).toBe(100);
    l.setShares(new Map(), 0); // no ceiling
    expect(l.maxRate(host)).toBe(500);
  });

  it('keeps a host to its share of requests in flight, so one that hangs cannot take every slot', async () => {
    const host = `busy-${randomBytes(3).toString('hex')}.test`;
    const l = limiter({ defaultHostRate: 0, maxInFlight: 2, busyWaitMs: 100 });
    expect(await l.acquire(host)).toEqual({ granted: true });
    expect(await l.acquire(host)).toEqual({ granted: true });
    // A third waits for one of the two to end...
    const third = l.acquire(host);
    l.answered(host);
    expect(await third).toEqual({ granted: true });
    // ...but not for ever: with none ending, it is handed back, while other hosts go on.
    expect(await l.acquire(host)).toMatchObject({ granted: false, reason: 'busy' });
    expect(await l.acquire(`other-${host}`)).toEqual({ granted: true });
  });

  it('forgets idle hosts and, past maxHosts, the least recently used, but never one still paused or in flight', async () => {
    let clock = Date.now();
    const tag = randomBytes(3).toString('hex');
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((h) => `${h}-${tag}.test`) as [string, string, string, string];
    const l = limiter({ defaultHostRate: 0, now: () => clock, bounds: { idleMs: 60_000, maxHosts: 3 } });
    for (const host of [a, b, c]) {
      expect(await l.acquire(host)).toEqual({ granted: true });
      l.answered(host);
      clock += 1;
    }
    await l.rateLimited(a, { sentAt: clock, retryAfterMs: 150_000 }); // a is paused for 2.5 minutes
    expect(await l.acquire(d)).toEqual({ granted: true }); // d stays in flight
    // Four hosts, three allowed: a is the least recently used but paused, so b goes.
    expect(l.trackedHosts).toBe(3);
    clock += 60_000;
    await l.sync();
    // A minute later c is idle and goes; d is still in flight, a still paused.
    expect(l.trackedHosts).toBe(2);
    l.answered(d);
    clock += 60_000;
    await l.sync();
    expect(l.trackedHosts).toBe(1); // d idle; a still paused
    clock += 31_000;
    await l.sync();
    expect(l.trackedHosts).toBe(0); // a's pause is over, and it has been idle since
    // A forgotten host comes back with a fresh entry (its 429 history is read from Redis).
    expect(await l.acquire(b)).toEqual({ granted: true });
    expect(l.trackedHosts).toBe(1);
  });
});
