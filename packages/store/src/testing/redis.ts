/**
 * Test helper (excluded from the build): a real Redis with a random key prefix per test file.
 * Without Redis the tests skip locally, and fail under CI=true.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { StapleStore } from '../staple-store.js';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Connects, or returns undefined (locally) when Redis is not there. Throws under CI=true. */
export async function connectTestRedis(): Promise<Redis | undefined> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  // Connection errors also reject the commands that hit them; the event itself would only add noise.
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    await redis.ping();
    return redis;
  } catch (err) {
    redis.disconnect();
    if (process.env.CI === 'true') throw new Error(`Redis is required under CI=true (${REDIS_URL})`, { cause: err });
    process.emitWarning(`packages/store: Redis not reachable at ${REDIS_URL}; skipping the Redis tests`);
    return undefined;
  }
}

/** `test:<random>:ocsp:`: no two test files (or engineers) share keys. */
export function randomPrefix(): string {
  return `test:${randomBytes(6).toString('hex')}:ocsp:`;
}

/** Deletes every key under the prefix. */
export async function deletePrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.unlink(...keys);
  } while (cursor !== '0');
}

export interface RedisTestContext {
  /** False when Redis is missing (locally): wrap the suite in `describe.skipIf(!ctx.available)`. */
  available: boolean;
  prefix: string;
  /** The connection; throws when Redis is not available. */
  readonly redis: Redis;
  /** A StapleStore on `redis` with the random prefix. */
  readonly store: StapleStore;
  /** Deletes this context's keys (call in afterEach). */
  cleanup(): Promise<void>;
  /** Deletes the keys and disconnects (call in afterAll). */
  close(): Promise<void>;
}

/** One per test file: a connection, a random prefix and a store on it. */
export async function redisTestContext(): Promise<RedisTestContext> {
  const redis = await connectTestRedis();
  const prefix = randomPrefix();
  const store = redis ? new StapleStore(redis, { prefix }) : undefined;
  const need = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('Redis is not available');
    return value;
  };
  return {
    available: redis !== undefined,
    prefix,
    get redis() {
      return need(redis);
    },
    get store() {
      return need(store);
    },
    cleanup: async () => {
      if (redis) await deletePrefix(redis, prefix);
    },
    close: async () => {
      if (!redis) return;
      await deletePrefix(redis, prefix);
      await redis.quit();
    },
  };
}
