import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkEvictionPolicy, evictionWarning, type EvictionFinding } from './eviction.js';
import { hasRedisServer, startRedisServer, type RedisServer } from '@staplewarm/testing';
import { redisTestContext } from './testing/redis.js';

const ctx = await redisTestContext();

describe.skipIf(!ctx.available)('checkEvictionPolicy on the shared Redis', () => {
  afterAll(() => ctx.close());

  it('finds noeviction (how the test and compose Redis are configured) and has nothing to warn about', async () => {
    const found = await checkEvictionPolicy(ctx.redis);
    expect(found).toEqual({ kind: 'noeviction', policy: 'noeviction', source: 'info' });
    expect(evictionWarning(found)).toBeUndefined();
  });
});

describe.skipIf(!hasRedisServer('packages/store eviction'))('checkEvictionPolicy on an evicting Redis', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedisServer(['--maxmemory-policy', 'allkeys-lru', '--maxmemory', '64mb']);
    const admin = await server.connect();
    // Users that are refused what managed services refuse: CONFIG, and on some also INFO.
    await admin.acl('SETUSER', 'noconfig', 'on', '>pw', '~*', '&*', '+@all', '-config');
    await admin.acl('SETUSER', 'neither', 'on', '>pw', '~*', '&*', '+@all', '-config', '-info');
    admin.disconnect();
  });
  afterAll(() => server?.stop());

  const check = async (options: { username?: string; password?: string } = {}): Promise<EvictionFinding> => {
    const redis = await server.connect({ enableReadyCheck: false, ...options });
    try {
      return await checkEvictionPolicy(redis);
    } finally {
      redis.disconnect();
    }
  };

  it('finds the policy and the limit in INFO', async () => {
    const found = await check();
    expect(found).toEqual({ kind: 'evicting', policy: 'allkeys-lru', maxmemoryBytes: 64 * 1024 * 1024, source: 'info' });
    expect(evictionWarning(found)).toBe(
      'Redis maxmemory-policy is allkeys-lru (maxmemory 67108864 bytes): an evicting Redis silently drops staples and ' +
        'queued jobs; set maxmemory-policy noeviction',
    );
  });

  it('still finds it when CONFIG is refused (managed Redis)', async () => {
    expect(await check({ username: 'noconfig', password: 'pw' })).toMatchObject({
      kind: 'evicting',
      policy: 'allkeys-lru',
      source: 'info',
    });
  });

  it('falls back to CONFIG GET when INFO is refused', async () => {
    const admin = await server.connect();
    await admin.acl('SETUSER', 'noinfo', 'on', '>pw', '~*', '&*', '+@all', '-info');
    admin.disconnect();
    expect(await check({ username: 'noinfo', password: 'pw' })).toEqual({
      kind: 'evicting',
      policy: 'allkeys-lru',
      maxmemoryBytes: 64 * 1024 * 1024,
      source: 'config',
    });
  });

  it('answers unknown, with Redis refusals as the reason, when both are refused', async () => {
    const found = await check({ username: 'neither', password: 'pw' });
    expect(found).toEqual({ kind: 'unknown', reason: expect.stringMatching(/^INFO: NOPERM.*; CONFIG GET: NOPERM/) });
    expect(evictionWarning(found)).toMatch(/^could not read Redis maxmemory-policy \(INFO: NOPERM.*\); make sure it is noeviction$/);
  });

  it('warns about volatile policies too (every contract key has an expiry), and says when no limit is set', async () => {
    const admin = await server.connect();
    try {
      await admin.config('SET', 'maxmemory-policy', 'volatile-ttl');
      await admin.config('SET', 'maxmemory', '0');
      const found = await check();
      expect(found).toEqual({ kind: 'evicting', policy: 'volatile-ttl', maxmemoryBytes: 0, source: 'info' });
      expect(evictionWarning(found)).toMatch(/^Redis maxmemory-policy is volatile-ttl \(no maxmemory limit is set now/);
    } finally {
      await admin.config('SET', 'maxmemory-policy', 'allkeys-lru');
      await admin.config('SET', 'maxmemory', '64mb');
      admin.disconnect();
    }
  });

  it('lets connection errors through: a dead Redis is not a finding', async () => {
    const redis = await server.connect();
    redis.disconnect();
    await expect(checkEvictionPolicy(redis)).rejects.toThrow(/Connection is closed|closed/i);
  });
});
