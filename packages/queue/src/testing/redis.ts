/**
 * Test helper (excluded from the build): a real Redis with a random key prefix per test file (or per
 * test). Without Redis the tests skip locally, and fail under CI=true.
 */
import type { Redis } from 'ioredis';
import { connectOrSkip, deletePrefix, testPrefix, REDIS_URL } from '@staplewarm/testing';

/** Connects, or returns undefined (locally) when Redis is not there. Throws under CI=true. */
export const connectTestRedis = (): Promise<Redis | undefined> => connectOrSkip(REDIS_URL, 'packages/queue');

/** A fresh prefix per test file (or test): no two share keys. */
export const randomPrefix = (): string => testPrefix('queue');

/** BullMQ's key prefix under a contract prefix, as staplewarm derives it: `<prefix>bull`. */
export function bullPrefix(prefix: string): string {
  return `${prefix}bull`;
}

export { REDIS_URL };

// Also deletes the host limiter's Bottleneck keys, which live outside the prefix.
export { deletePrefix };

export interface RedisTestContext {
  /** False when Redis is missing (locally): wrap the suite in `describe.skipIf(!ctx.available)`. */
  available: boolean;
  /** The contract prefix (`swtest:queue:<random>:`). */
  prefix: string;
  /** BullMQ's prefix under it (`<prefix>bull`). */
  bull: string;
  /** The connection; throws when Redis is not available. */
  readonly redis: Redis;
  /** Deletes this context's keys (call in afterEach). */
  cleanup(): Promise<void>;
  /** Deletes the keys and disconnects (call in afterAll). */
  close(): Promise<void>;
}

/** One per test file: a connection and a random prefix. */
export async function redisTestContext(): Promise<RedisTestContext> {
  const redis = await connectTestRedis();
  const prefix = randomPrefix();
  return {
    available: redis !== undefined,
    prefix,
    bull: bullPrefix(prefix),
    get redis() {
      if (!redis) throw new Error('Redis is not available');
      return redis;
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
