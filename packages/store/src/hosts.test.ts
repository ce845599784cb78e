import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { DAY, NOW, fingerprint, record, staple } from './testing/fixtures.js';
import { redisTestContext } from './testing/redis.js';

const ctx = await redisTestContext();

describe.skipIf(!ctx.available)('host aliases', () => {
  afterEach(() => ctx.cleanup());
  afterAll(() => ctx.close());

  const names = ['shared.test', '*.shared.test'];
  const write = (label: string, certNotAfterIn: number) =>
    ctx.store.write(record(fingerprint(label), staple(), { names, certNotAfter: NOW + certNotAfterIn }), NOW);
  const holders = async () => Promise.all(names.map((name) => ctx.store.fingerprintForHost(name)));

  it('maps every lowercased name, wildcards as written, expiring with the meta', async () => {
    const fp = fingerprint('one');
    await ctx.store.write(record(fp, staple(), { names: ['WWW.One.test', '*.One.test'], certNotAfter: NOW + 10 * DAY }), NOW);

    expect(await ctx.redis.get(`${ctx.prefix}host:www.one.test`)).toBe(fp);
    expect(await ctx.redis.get(`${ctx.prefix}host:*.one.test`)).toBe(fp);
    expect(await ctx.redis.pexpiretime(`${ctx.prefix}host:www.one.test`)).toBe(NOW + 11 * DAY);
  });

  it('gives a name to the certificate with the later notAfter, in either write order', async () => {
    await write('old', 30 * DAY);
    await write('new', 60 * DAY);
    expect(await holders()).toEqual([fingerprint('new'), fingerprint('new')]);

    await write('old', 30 * DAY); // a refresh of the older certificate does not take the names back
    expect(await holders()).toEqual([fingerprint('new'), fingerprint('new')]);
  });

  it('keeps the holder on an equal notAfter', async () => {
    await write('first', 30 * DAY);
    await write('second', 30 * DAY);
    expect(await holders()).toEqual([fingerprint('first'), fingerprint('first')]);
  });

  it('takes a name whose holder has no meta any more', async () => {
    await write('vanished', 90 * DAY);
    await ctx.redis.del(ctx.store.keys.meta(fingerprint('vanished')));
    await write('present', 30 * DAY);
    expect(await holders()).toEqual([fingerprint('present'), fingerprint('present')]);
  });

  it('lets a failing certificate with the later notAfter claim the names too', async () => {
    await write('stapled', 30 * DAY);
    await ctx.store.recordFailure(
      fingerprint('renewed'),
      { code: 'timeout', message: 'no answer', at: new Date(NOW) },
      { names, mustStaple: false, certNotAfter: NOW + 90 * DAY },
    );
    expect(await holders()).toEqual([fingerprint('renewed'), fingerprint('renewed')]);
  });
});
