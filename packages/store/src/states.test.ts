import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { DAY, HOUR, NOW, fingerprint, record, staple } from './testing/fixtures.js';
import { redisTestContext } from './testing/redis.js';

const ctx = await redisTestContext();

describe.skipIf(!ctx.available)('StapleStore.states', () => {
  afterEach(() => ctx.cleanup());
  afterAll(() => ctx.close());

  it('reports every requested fingerprint across pipeline chunks', async () => {
    // 12,000 fingerprints: more than two chunks of 5,000. One in three stapled, one in three failed only.
    const fps = Array.from({ length: 12_000 }, (_, i) => fingerprint(`cert-${i}`));
    const pipeline = ctx.redis.pipeline();
    fps.forEach((fp, i) => {
      if (i % 3 === 0) {
        pipeline.set(ctx.store.keys.staple(fp), 'der', 'PX', DAY);
        pipeline.hset(ctx.store.keys.meta(fp), { status: 'good', thisUpdate: new Date(NOW - HOUR).toISOString() });
      } else if (i % 3 === 1) {
        pipeline.hset(ctx.store.keys.meta(fp), { lastErrorCode: 'timeout' });
      }
    });
    await pipeline.exec();

    const states = await ctx.store.states(fps);
    expect(states.size).toBe(12_000);
    expect([...states.values()].filter((s) => s.hasStaple)).toHaveLength(4000);
    expect(states.get(fps[0] ?? '')).toEqual({ hasStaple: true, status: 'good', thisUpdate: new Date(NOW - HOUR) });
    expect(states.get(fps[1] ?? '')).toEqual({ hasStaple: false });
    expect(states.get(fps[11_999] ?? '')).toEqual({ hasStaple: false });
    expect(states.get(fps[11_997] ?? '')?.hasStaple).toBe(true);
  });

  it('returns the fields written by write()', async () => {
    const fp = fingerprint('written');
    const st = staple({ status: 'revoked' });
    const rec = record(fp, st);
    await ctx.store.write(rec);

    expect((await ctx.store.states([fp])).get(fp)).toEqual({
      hasStaple: true,
      status: 'revoked',
      thisUpdate: st.thisUpdate,
      nextUpdate: st.nextUpdate,
      certNotAfter: new Date(rec.certNotAfter),
    });
  });

  it('answers an empty list with an empty map', async () => {
    expect((await ctx.store.states([])).size).toBe(0);
  });
});
