import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { DAY, HOUR, NOW, binaryDer, fingerprint, record, staple } from './testing/fixtures.js';
import { redisTestContext } from './testing/redis.js';

const ctx = await redisTestContext();

describe.skipIf(!ctx.available)('StapleStore.write and get', () => {
  afterEach(() => ctx.cleanup());
  afterAll(() => ctx.close());

  it('round-trips binary DER bytes exactly (0x00, 0xff, CR LF, invalid UTF-8)', async () => {
    const fp = fingerprint('round-trip');
    const der = Buffer.concat([binaryDer(7), Buffer.from(Array.from({ length: 256 }, (_, i) => i))]);
    const outcome = await ctx.store.write(record(fp, staple({ der })), NOW);

    expect(outcome).toEqual({ written: true });
    const { der: stored } = await ctx.store.get(fp);
    expect(stored).toEqual(der);
  });

  it('sets the staple to expire at expiresAt and the meta a day after certNotAfter', async () => {
    const fp = fingerprint('ttl');
    const st = staple({ expiresIn: 3 * DAY });
    const rec = record(fp, st, { certNotAfter: NOW + 30 * DAY });
    await ctx.store.write(rec, NOW);

    expect(await ctx.redis.pexpiretime(ctx.store.keys.staple(fp))).toBe(st.expiresAt.getTime());
    expect(await ctx.redis.pexpiretime(ctx.store.keys.meta(fp))).toBe(NOW + 31 * DAY);
    const pttl = await ctx.redis.pttl(ctx.store.keys.staple(fp));
    expect(pttl).toBeGreaterThan(3 * DAY - 60_000);
    expect(pttl).toBeLessThanOrEqual(3 * DAY);
  });

  it('stores every meta field of the contract', async () => {
    const fp = fingerprint('meta');
    const st = staple({ status: 'revoked' });
    const rec = record(fp, st, { mustStaple: true });
    await ctx.store.write(rec, NOW);

    const { meta } = await ctx.store.get(fp);
    expect(meta).toEqual({
      fingerprint: fp,
      status: 'revoked',
      thisUpdate: st.thisUpdate,
      nextUpdate: st.nextUpdate,
      producedAt: st.producedAt,
      fetchedAt: rec.fetchedAt,
      expiresAt: st.expiresAt,
      serial: '0a1b2c',
      responder: 'http://ocsp.example.test',
      names: ['www.example.test', 'example.test', '*.example.test'],
      mustStaple: true,
      certNotAfter: new Date(rec.certNotAfter),
      revocationTime: st.revocationTime,
      revocationReason: 'keyCompromise',
    });
  });

  it('returns nulls for an unknown fingerprint', async () => {
    expect(await ctx.store.get(fingerprint('nothing'))).toEqual({ der: null, meta: null });
  });

  it('refuses a staple whose expiresAt is not after now, writing nothing', async () => {
    const fp = fingerprint('expired');
    const outcome = await ctx.store.write(record(fp, staple({ expiresIn: 0 })), NOW);

    expect(outcome).toEqual({ written: false, reason: 'expired' });
    expect(await ctx.redis.keys(`${ctx.prefix}*`)).toEqual([]);
  });

  it('refuses status unknown with a typed error', async () => {
    const fp = fingerprint('unknown');
    await expect(ctx.store.write(record(fp, staple({ status: 'unknown' })), NOW)).rejects.toMatchObject({
      name: 'StoreError',
      code: 'not-stapleable',
    });
    expect(await ctx.redis.exists(ctx.store.keys.staple(fp))).toBe(0);
  });

  it('answers the staple lookup by host name', async () => {
    const fp = fingerprint('by-host');
    await ctx.store.write(record(fp, staple({ thisUpdate: -2 * HOUR })), NOW);

    expect(await ctx.store.fingerprintForHost('WWW.example.test')).toBe(fp);
    expect(await ctx.store.fingerprintForHost('*.example.test')).toBe(fp);
    expect(await ctx.store.fingerprintForHost('other.test')).toBeNull();
  });

  it('falls back to the wildcard one label up, and only one label', async () => {
    const exact = fingerprint('exact');
    const wild = fingerprint('wild');
    await ctx.store.write(record(wild, staple(), { names: ['*.wild.test'] }), NOW);
    await ctx.store.write(record(exact, staple(), { names: ['www.wild.test'] }), NOW);

    expect(await ctx.store.fingerprintForHost('www.wild.test')).toBe(exact);
    expect(await ctx.store.fingerprintForHost('API.wild.test.')).toBe(wild);
    expect(await ctx.store.fingerprintForHost('a.b.wild.test')).toBeNull();
    expect(await ctx.store.fingerprintForHost('wild.test')).toBeNull();
  });
});
