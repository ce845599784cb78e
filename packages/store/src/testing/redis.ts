/**
 * Test helper (excluded from the build): a real Redis with a random key prefix per test file.
 * Without Redis the tests skip locally, and fail under CI=true.
 */
import type { Redis } from 'ioredis';
import { connectOrSkip, deletePrefix, testPrefix, REDIS_URL } from '@staplewarm/testing';
import { StapleStore } from '../staple-store.js';

/** Connects, or returns undefined (locally) when Redis is not there. Throws under CI=true. */
export const connectTestRedis = (): Promise<Redis | undefined> => connectOrSkip(REDIS_URL, 'packages/store');

/** A fresh prefix per test file: no two test files (or engineers) share keys. */
export const randomPrefix = (): string => testPrefix('store');

export { deletePrefix };

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
export { REDIS_URL };
