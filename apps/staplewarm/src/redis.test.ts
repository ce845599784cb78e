/**
 * connectRedis and credentials, against the shared test Redis with an ACL user of its own (made here,
 * deleted after): the password as an option, from the URL percent-encoded, kept by duplicates, and
 * kept out of the error when Redis refuses it.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectOrSkip, REDIS_URL } from '@staplewarm/testing';
import { connectRedis, RedisUnavailableError } from './redis.js';

const admin = await connectOrSkip(REDIS_URL, 'apps/staplewarm redis');
afterAll(() => admin?.disconnect());

describe.skipIf(!admin)('connectRedis credentials', () => {
  const user = `swtest-${randomBytes(4).toString('hex')}`;
  // Every character a URL's userinfo makes hard: `/`, `@`, `:`, `%`, a space.
  const password = `p/w@r:d% ${randomBytes(6).toString('hex')}`;
  const server = new URL(REDIS_URL);
  const urlFor = (userinfo: string): string => `redis://${userinfo}@${server.host}/0`;

  beforeAll(async () => {
    await admin!.call('ACL', 'SETUSER', user, 'on', `>${password}`, '~*', '&*', '+@all');
  });
  afterAll(async () => {
    await admin!.call('ACL', 'DELUSER', user);
  });

  const whoami = async (redis: Awaited<ReturnType<typeof connectRedis>>): Promise<unknown> => redis.call('ACL', 'WHOAMI');

  it('authenticates with the password given as an option, not in the URL', async () => {
    const redis = await connectRedis(urlFor(user), { password });
    try {
      expect(await whoami(redis)).toBe(user);
    } finally {
      redis.disconnect();
    }
  });

  it('reads a percent-encoded password from the URL', async () => {
    const redis = await connectRedis(urlFor(`${user}:${encodeURIComponent(password)}`));
    try {
      expect(await whoami(redis)).toBe(user);
    } finally {
      redis.disconnect();
    }
  });

  it('prefers the password file over a password in the URL', async () => {
    const redis = await connectRedis(urlFor(`${user}:not-this-one`), { password });
    try {
      expect(await whoami(redis)).toBe(user);
    } finally {
      redis.disconnect();
    }
  });

  it("keeps the credentials in duplicates (BullMQ's blocking connection, Bottleneck's subscriber)", async () => {
    const redis = await connectRedis(urlFor(user), { password });
    const copy = redis.duplicate();
    copy.on('error', () => {});
    try {
      expect(await whoami(copy)).toBe(user);
    } finally {
      copy.disconnect();
      redis.disconnect();
    }
  });

  it('says why Redis refused, names the server, and shows no password', async () => {
    const wrong = `wrong-${randomBytes(6).toString('hex')}`;
    const attempt = connectRedis(urlFor(`${user}:${wrong}`), { connectTimeoutMs: 2_000 });
    const err = (await attempt.catch((e: unknown) => e)) as RedisUnavailableError;
    expect(err).toBeInstanceOf(RedisUnavailableError);
    expect(err.code).toBe('redis-unavailable');
    expect(err.message).toContain(`redis://${user}:***@${server.host}/0`);
    expect(err.message).toMatch(/WRONGPASS/);
    expect(err.message).not.toContain(wrong);
    // ioredis' own error carries the AUTH command with the password: it is not kept as the cause.
    expect(err.cause).toBeUndefined();

    const fromFile = await connectRedis(urlFor(user), { password: wrong, connectTimeoutMs: 2_000 }).catch((e: unknown) => e);
    expect(String((fromFile as Error).message)).not.toContain(wrong);
  });
});
