import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { DAY, NOW, fingerprint, record, staple } from './testing/fixtures.js';
import { redisTestContext } from './testing/redis.js';

const ctx = await redisTestContext();

describe.skipIf(!ctx.available)('host aliases', () => {
  afterEach(() => ctx.cleanup());
  afterAll(() => ctx.close());

  const names = ['shared.test', '*.shared.test'];
  const write = (label: string, certNotAfterIn: number) =>
    ctx.store.write(record(fingerprint(label), staple(), { names, certNotAfter: NOW + certNotAfterIn }));
  const fail = (label: string, certNotAfterIn: number) =>
    ctx.store.recordFailure(
      fingerprint(label),
      { code: 'timeout', message: 'no answer', at: new Date(NOW) },
      { names, mustStaple: false, certNotAfter: NOW + certNotAfterIn },
    );
  const holders = async () => Promise.all(names.map((name) => ctx.store.fingerprintForHost(name)));
  const heldBy = (label: string) => [fingerprint(label), fingerprint(label)];

  it('maps every lowercased name, wildcards as written, expiring with the meta', async () => {
    const fp = fingerprint('one');
    await ctx.store.write(record(fp, staple(), { names: ['WWW.One.test', '*.One.test'], certNotAfter: NOW + 10 * DAY }));

    expect(await ctx.redis.get(`${ctx.prefix}host:www.one.test`)).toBe(fp);
    expect(await ctx.redis.get(`${ctx.prefix}host:*.one.test`)).toBe(fp);
    expect(await ctx.redis.pexpiretime(`${ctx.prefix}host:www.one.test`)).toBe(NOW + 11 * DAY);
  });

  it('gives a name to the certificate with the later notAfter, in either write order', async () => {
    await write('old', 30 * DAY);
    await write('new', 60 * DAY);
    expect(await holders()).toEqual(heldBy('new'));

    await write('old', 30 * DAY); // a refresh of the older certificate does not take the names back
    expect(await holders()).toEqual(heldBy('new'));
  });

  it('keeps the holder on an equal notAfter', async () => {
    await write('first', 30 * DAY);
    await write('second', 30 * DAY);
    expect(await holders()).toEqual(heldBy('first'));
  });

  it('takes a name whose holder has no meta any more', async () => {
    await write('vanished', 90 * DAY);
    await ctx.redis.del(ctx.store.keys.meta(fingerprint('vanished')));
    await write('present', 30 * DAY);
    expect(await holders()).toEqual(heldBy('present'));
  });

  it('takes a name whose holder has no live staple, even from a later notAfter', async () => {
    await write('lapsed', 90 * DAY);
    await ctx.redis.del(ctx.store.keys.staple(fingerprint('lapsed'))); // as if it had expired
    await write('serving', 30 * DAY);
    expect(await holders()).toEqual(heldBy('serving'));

    // Once the holder is stapled again, its later notAfter wins the names back.
    await write('lapsed', 90 * DAY);
    expect(await holders()).toEqual(heldBy('lapsed'));
  });

  it('never lets a failed attempt claim a name, whatever its notAfter', async () => {
    await write('stapled', 30 * DAY);
    await fail('hostile', 3650 * DAY);
    expect(await holders()).toEqual(heldBy('stapled'));

    // Not even a name nobody holds: without a verified staple there is nothing to find by SNI.
    await ctx.store.recordFailure(
      fingerprint('hostile'),
      { code: 'timeout', message: 'no answer', at: new Date(NOW) },
      { names: ['unclaimed.test'], mustStaple: false, certNotAfter: NOW + 90 * DAY },
    );
    expect(await ctx.redis.exists(ctx.store.keys.host('unclaimed.test'))).toBe(0);
  });

  it('moves a name to a renewed certificate with its first verified staple, not before', async () => {
    await write('current', 30 * DAY);
    await fail('renewed', 90 * DAY);
    expect(await holders()).toEqual(heldBy('current'));

    await write('renewed', 90 * DAY);
    expect(await holders()).toEqual(heldBy('renewed'));
  });

  it('does not take a name when the write is refused as expired', async () => {
    await write('holder', 30 * DAY);
    const outcome = await ctx.store.write(
      record(fingerprint('expired'), staple({ expiresIn: -1_000 }), { names, certNotAfter: NOW + 90 * DAY }),
    );
    expect(outcome).toEqual({ written: false, reason: 'expired' });
    expect(await holders()).toEqual(heldBy('holder'));
  });
});
