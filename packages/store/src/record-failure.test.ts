import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { DAY, HOUR, NOW, binaryDer, fingerprint, record, staple } from './testing/fixtures.js';
import { redisTestContext } from './testing/redis.js';

const ctx = await redisTestContext();

const failure = { code: 'rate-limited', message: 'http://ocsp.example.test: 429', at: new Date(NOW) };
const context = { names: ['fail.test'], mustStaple: true, certNotAfter: NOW + 30 * DAY, responder: 'http://other.test' };

describe.skipIf(!ctx.available)('StapleStore.recordFailure', () => {
  afterEach(() => ctx.cleanup());
  afterAll(() => ctx.close());

  it('keeps the staple, its TTL and the staple fields, and sets lastError', async () => {
    const fp = fingerprint('keep');
    const st = staple({ der: binaryDer(9) });
    await ctx.store.write(record(fp, st));
    const expireBefore = await ctx.redis.pexpiretime(ctx.store.keys.staple(fp));
    await ctx.store.recordFailure(fp, failure, context);

    const { der, meta } = await ctx.store.get(fp);
    expect(der).toEqual(binaryDer(9));
    expect(await ctx.redis.pexpiretime(ctx.store.keys.staple(fp))).toBe(expireBefore);
    expect(meta).toMatchObject({
      status: 'good',
      thisUpdate: st.thisUpdate,
      responder: 'http://ocsp.example.test', // the stored staple's source stays
      lastError: failure.message,
      lastErrorCode: 'rate-limited',
      lastErrorAt: failure.at,
      names: ['fail.test'],
      mustStaple: true,
    });
  });

  it('creates meta without a staple for a certificate never stapled', async () => {
    const fp = fingerprint('never');
    await ctx.store.recordFailure(fp, failure, context);

    const { der, meta } = await ctx.store.get(fp);
    expect(der).toBeNull();
    expect(meta).toEqual({
      fingerprint: fp,
      responder: 'http://other.test',
      names: ['fail.test'],
      mustStaple: true,
      certNotAfter: new Date(context.certNotAfter),
      lastError: failure.message,
      lastErrorCode: 'rate-limited',
      lastErrorAt: failure.at,
    });
    expect(await ctx.redis.pexpiretime(ctx.store.keys.meta(fp))).toBe(context.certNotAfter + DAY);
    // Only a verified staple claims a host name (hosts.test.ts).
    expect(await ctx.redis.exists(ctx.store.keys.host('fail.test'))).toBe(0);
  });

  it('is cleared by the next successful write', async () => {
    const fp = fingerprint('clear');
    await ctx.store.write(record(fp, staple({ thisUpdate: -2 * HOUR })));
    await ctx.store.recordFailure(fp, failure, context);
    await ctx.store.write(record(fp, staple({ thisUpdate: -HOUR })));

    const { meta } = await ctx.store.get(fp);
    expect(meta?.lastError).toBeUndefined();
    expect(meta?.lastErrorCode).toBeUndefined();
    expect(meta?.lastErrorAt).toBeUndefined();
  });

  it('is not cleared when the write is refused as older', async () => {
    const fp = fingerprint('refused');
    await ctx.store.write(record(fp, staple({ thisUpdate: -HOUR })));
    await ctx.store.recordFailure(fp, failure, context);
    await ctx.store.write(record(fp, staple({ thisUpdate: -2 * HOUR })));

    expect((await ctx.store.get(fp)).meta?.lastErrorCode).toBe('rate-limited');
  });
});
