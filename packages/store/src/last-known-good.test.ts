import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { DAY, HOUR, NOW, binaryDer, fingerprint, record, staple, type StapleSpec } from './testing/fixtures.js';
import { redisTestContext } from './testing/redis.js';
import type { WriteOutcome } from './types.js';

const ctx = await redisTestContext();

/** Writes `first` then `second` for one certificate; returns the second outcome and what is stored. */
async function writeTwice(label: string, first: StapleSpec, second: StapleSpec) {
  const fp = fingerprint(label);
  expect(await ctx.store.write(record(fp, staple({ ...first, der: binaryDer(1) })))).toEqual({ written: true });
  const outcome: WriteOutcome = await ctx.store.write(record(fp, staple({ ...second, der: binaryDer(2) })));
  const { der, meta } = await ctx.store.get(fp);
  return { fp, outcome, der, meta };
}

describe.skipIf(!ctx.available)('last-known-good rules of the write script', () => {
  afterEach(() => ctx.cleanup());
  afterAll(() => ctx.close());

  it('replaces a good staple with a newer good one', async () => {
    const r = await writeTwice('newer', { thisUpdate: -2 * HOUR }, { thisUpdate: -HOUR });
    expect(r.outcome).toEqual({ written: true });
    expect(r.der).toEqual(binaryDer(2));
    expect(r.meta?.thisUpdate).toEqual(new Date(NOW - HOUR));
  });

  it('replaces on an equal thisUpdate', async () => {
    const r = await writeTwice('equal', { thisUpdate: -HOUR }, { thisUpdate: -HOUR });
    expect(r.outcome).toEqual({ written: true });
    expect(r.der).toEqual(binaryDer(2));
  });

  it('refuses an older thisUpdate as older and keeps the stored staple and its TTL', async () => {
    const r = await writeTwice('older', { thisUpdate: -HOUR, expiresIn: 6 * DAY }, { thisUpdate: -2 * HOUR, expiresIn: 2 * DAY });
    expect(r.outcome).toEqual({ written: false, reason: 'older' });
    expect(r.der).toEqual(binaryDer(1));
    expect(r.meta?.thisUpdate).toEqual(new Date(NOW - HOUR));
    expect(await ctx.redis.pexpiretime(ctx.store.keys.staple(r.fp))).toBe(NOW + 6 * DAY);
  });

  it('lets a revoked response replace a good one, even an older one', async () => {
    const r = await writeTwice('revoke', { thisUpdate: -HOUR }, { status: 'revoked', thisUpdate: -3 * HOUR });
    expect(r.outcome).toEqual({ written: true });
    expect(r.der).toEqual(binaryDer(2));
    expect(r.meta).toMatchObject({ status: 'revoked', revocationReason: 'keyCompromise' });
  });

  it('never replaces a revoked staple with a good one, even a newer one', async () => {
    const r = await writeTwice('kept', { status: 'revoked', thisUpdate: -2 * HOUR }, { thisUpdate: -HOUR });
    expect(r.outcome).toEqual({ written: false, reason: 'revoked-kept' });
    expect(r.der).toEqual(binaryDer(1));
    expect(r.meta?.status).toBe('revoked');
  });

  it('applies the thisUpdate rule between two revoked responses', async () => {
    const older = await writeTwice('revoked-older', { status: 'revoked', thisUpdate: -HOUR }, { status: 'revoked', thisUpdate: -2 * HOUR });
    expect(older.outcome).toEqual({ written: false, reason: 'older' });
    const newer = await writeTwice('revoked-newer', { status: 'revoked', thisUpdate: -2 * HOUR }, { status: 'revoked', thisUpdate: -HOUR });
    expect(newer.outcome).toEqual({ written: true });
  });

  it('writes any response when the staple key is gone, clearing stale revocation fields', async () => {
    const fp = fingerprint('gone');
    await ctx.store.write(record(fp, staple({ status: 'revoked', thisUpdate: -HOUR, der: binaryDer(1) })));
    await ctx.redis.del(ctx.store.keys.staple(fp)); // as if it had expired
    const outcome = await ctx.store.write(record(fp, staple({ thisUpdate: -5 * HOUR, der: binaryDer(2) })));

    expect(outcome).toEqual({ written: true });
    const { der, meta } = await ctx.store.get(fp);
    expect(der).toEqual(binaryDer(2));
    expect(meta?.status).toBe('good');
    expect(meta?.revocationTime).toBeUndefined();
    expect(meta?.revocationReason).toBeUndefined();
  });

  it('refreshes names, mustStaple and host aliases even when the staple is kept', async () => {
    const fp = fingerprint('refresh');
    await ctx.store.write(record(fp, staple({ thisUpdate: -HOUR }), { names: ['a.test'], mustStaple: false }));
    const outcome = await ctx.store.write(record(fp, staple({ thisUpdate: -2 * HOUR }), { names: ['a.test', 'B.test'], mustStaple: true }));

    expect(outcome).toEqual({ written: false, reason: 'older' });
    const { meta } = await ctx.store.get(fp);
    expect(meta).toMatchObject({ names: ['a.test', 'b.test'], mustStaple: true });
    expect(await ctx.store.fingerprintForHost('b.test')).toBe(fp);
  });
});
