/**
 * The OpenResty module relies on these exact names and encodings. This test reads them with a second,
 * plain connection and literal key strings (not the key builder), as the Lua side does.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { StapleStore } from './staple-store.js';
import { DAY, NOW, binaryDer, record, staple } from './testing/fixtures.js';
import { REDIS_URL, redisTestContext } from './testing/redis.js';

const ctx = await redisTestContext();

describe.skipIf(!ctx.available)('contract v1 on the wire, default prefix', () => {
  // Random fingerprint and names under the real `ocsp:` prefix; exactly these keys are deleted after.
  const fp = randomBytes(32).toString('hex');
  const name = `${fp.slice(0, 12)}.contract.test`;
  const literal = [`ocsp:staple:${fp}`, `ocsp:meta:${fp}`, `ocsp:host:${name}`, `ocsp:host:*.${name}`];
  const raw = new Redis(REDIS_URL, { lazyConnect: true });
  afterAll(async () => {
    await ctx.redis.del(...literal);
    await ctx.close();
    raw.disconnect();
  });

  it('stores exactly the documented keys, types and encodings', async () => {
    const store = new StapleStore(ctx.redis);
    const der = binaryDer(0xff);
    const st = staple({ der, status: 'revoked' });
    const rec = record(fp, st, { names: [name.toUpperCase(), `*.${name}`], mustStaple: true, certNotAfter: NOW + 30 * DAY });
    await store.write(rec);

    expect(await raw.type(`ocsp:staple:${fp}`)).toBe('string');
    expect(await raw.getBuffer(`ocsp:staple:${fp}`)).toEqual(der);
    expect(await raw.pexpiretime(`ocsp:staple:${fp}`)).toBe(st.expiresAt.getTime());
    expect(await raw.type(`ocsp:meta:${fp}`)).toBe('hash');
    expect(await raw.hgetall(`ocsp:meta:${fp}`)).toEqual({
      status: 'revoked',
      thisUpdate: st.thisUpdate.toISOString(),
      nextUpdate: st.nextUpdate.toISOString(),
      producedAt: st.producedAt.toISOString(),
      fetchedAt: new Date(NOW).toISOString(),
      expiresAt: st.expiresAt.toISOString(),
      serial: '0a1b2c',
      responder: 'http://ocsp.example.test',
      names: `${name},*.${name}`,
      mustStaple: '1',
      certNotAfter: new Date(NOW + 30 * DAY).toISOString(),
      revocationTime: st.revocationTime?.toISOString(),
      revocationReason: 'keyCompromise',
    });
    expect(await raw.pexpiretime(`ocsp:meta:${fp}`)).toBe(NOW + 31 * DAY);
    expect(await raw.get(`ocsp:host:${name}`)).toBe(fp);
    expect(await raw.get(`ocsp:host:*.${name}`)).toBe(fp);
    expect(await raw.pexpiretime(`ocsp:host:${name}`)).toBe(NOW + 31 * DAY);
  });
});
