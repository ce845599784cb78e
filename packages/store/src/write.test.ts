import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { DAY, HOUR, NOW, binaryDer, fingerprint, record, staple } from './testing/fixtures.js';
import { redisTestContext } from './testing/redis.js';

const ctx = await redisTestContext();

describe.skipIf(!ctx.available)('StapleStore.write and get', () => {
  afterEach(() => ctx.cleanup());
  afterAll(() => ctx.close());

  it('round-trips binary DER bytes exactly (0x00, 0xff, CR LF, invalid UTF-8)', async () => {
    const fp = fingerprint('round-trip');
    const der = Buffer.concat([binaryDer(7), Buffer.from(Array.from({ length: 256 }, (_, i) => i))]);
    const outcome = await ctx.store.write(record(fp, staple({ der })));

    expect(outcome).toEqual({ written: true });
    const { der: stored } = await ctx.store.get(fp);
    expect(stored).toEqual(der);
  });

  it('sets the staple to expire at expiresAt and the meta a day after certNotAfter', async () => {
    const fp = fingerprint('ttl');
    const st = staple({ expiresIn: 3 * DAY });
    const rec = record(fp, st, { certNotAfter: NOW + 30 * DAY });
    await ctx.store.write(rec);

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
    await ctx.store.write(rec);

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

  /** Redis' own clock, epoch ms: the one the write script decides by. */
  const redisNow = async () => {
    const [seconds, micros] = await ctx.redis.time();
    return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
  };
  /** A staple expiring at an absolute time (the fixtures' `expiresIn` is relative to NOW). */
  const expiringAt = (at: number, spec: Parameters<typeof staple>[0] = {}) => {
    const st = staple(spec);
    return { ...st, expiresAt: new Date(at), nextUpdate: new Date(at) };
  };

  it('refuses a staple whose expiresAt is not after Redis time, writing nothing', async () => {
    const fp = fingerprint('expired');
    const outcome = await ctx.store.write(record(fp, expiringAt(await redisNow())));

    expect(outcome).toEqual({ written: false, reason: 'expired' });
    expect(await ctx.redis.keys(`${ctx.prefix}*`)).toEqual([]);
  });

  it('writes a staple that Redis time still sees alive, however soon it expires', async () => {
    const fp = fingerprint('short-lived');
    const expiresAt = (await redisNow()) + 5_000;
    expect(await ctx.store.write(record(fp, expiringAt(expiresAt)))).toEqual({ written: true });
    expect(await ctx.redis.pexpiretime(ctx.store.keys.staple(fp))).toBe(expiresAt);
  });

  it('never lets an expired response delete the live staple it would replace', async () => {
    // A revoked response replaces a good one whatever its thisUpdate: if it were written although
    // already expired, `SET ... PXAT <past>` would delete the good staple and leave nothing.
    const fp = fingerprint('live');
    await ctx.store.write(record(fp, staple({ der: binaryDer(1), thisUpdate: -2 * HOUR })));
    const before = {
      der: await ctx.redis.getBuffer(ctx.store.keys.staple(fp)),
      expireAt: await ctx.redis.pexpiretime(ctx.store.keys.staple(fp)),
      meta: await ctx.redis.hgetall(ctx.store.keys.meta(fp)),
    };

    const dead = expiringAt((await redisNow()) - 1_000, { status: 'revoked', thisUpdate: -HOUR, der: binaryDer(2) });
    expect(await ctx.store.write(record(fp, dead, { names: ['other.test'] }))).toEqual({ written: false, reason: 'expired' });

    expect(await ctx.redis.getBuffer(ctx.store.keys.staple(fp))).toEqual(before.der);
    expect(await ctx.redis.pexpiretime(ctx.store.keys.staple(fp))).toBe(before.expireAt);
    expect(await ctx.redis.hgetall(ctx.store.keys.meta(fp))).toEqual(before.meta);
    expect(await ctx.redis.exists(ctx.store.keys.host('other.test'))).toBe(0);
  });

  it('publishes the fingerprint on <prefix>changed for a written staple, and nothing for a kept or expired one', async () => {
    const subscriber = ctx.redis.duplicate();
    const heard: string[] = [];
    subscriber.on('message', (channel: string, message: string) => heard.push(`${channel} ${message}`));
    await subscriber.subscribe(ctx.store.keys.changedChannel());
    try {
      const fp = fingerprint('published');
      await ctx.store.write(record(fp, staple({ der: binaryDer(1), thisUpdate: -HOUR })));
      expect(await ctx.store.write(record(fp, staple({ der: binaryDer(2), thisUpdate: -2 * HOUR })))).toEqual({
        written: false,
        reason: 'older',
      });
      await ctx.store.write(record(fp, expiringAt((await redisNow()) - 1_000, { der: binaryDer(3) })));
      await ctx.store.write(record(fp, staple({ der: binaryDer(4), thisUpdate: 0 })));
      await ctx.redis.publish(ctx.store.keys.changedChannel(), 'end'); // delivered after every message before it
      await vi.waitFor(() => expect(heard.at(-1)).toBe(`${ctx.prefix}changed end`));

      expect(heard).toEqual([`${ctx.prefix}changed ${fp}`, `${ctx.prefix}changed ${fp}`, `${ctx.prefix}changed end`]);
    } finally {
      subscriber.disconnect();
    }
  });

  it('refuses status unknown with a typed error', async () => {
    const fp = fingerprint('unknown');
    await expect(ctx.store.write(record(fp, staple({ status: 'unknown' })))).rejects.toMatchObject({
      name: 'StoreError',
      code: 'not-stapleable',
    });
    expect(await ctx.redis.exists(ctx.store.keys.staple(fp))).toBe(0);
  });

  it('answers the staple lookup by host name', async () => {
    const fp = fingerprint('by-host');
    await ctx.store.write(record(fp, staple({ thisUpdate: -2 * HOUR })));

    expect(await ctx.store.fingerprintForHost('WWW.example.test')).toBe(fp);
    expect(await ctx.store.fingerprintForHost('*.example.test')).toBe(fp);
    expect(await ctx.store.fingerprintForHost('other.test')).toBeNull();
  });

  it('falls back to the wildcard one label up, and only one label', async () => {
    const exact = fingerprint('exact');
    const wild = fingerprint('wild');
    await ctx.store.write(record(wild, staple(), { names: ['*.wild.test'] }));
    await ctx.store.write(record(exact, staple(), { names: ['www.wild.test'] }));

    expect(await ctx.store.fingerprintForHost('www.wild.test')).toBe(exact);
    expect(await ctx.store.fingerprintForHost('API.wild.test.')).toBe(wild);
    expect(await ctx.store.fingerprintForHost('a.b.wild.test')).toBeNull();
    expect(await ctx.store.fingerprintForHost('wild.test')).toBeNull();
  });
});
