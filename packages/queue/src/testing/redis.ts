/**
 * Test helper (excluded from the build): a real Redis with a random key prefix per test file (or per
 * test). Without Redis the tests skip locally, and fail under CI=true.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * Connects, or returns undefined (locally) when Redis is not there. Throws under CI=true.
 * `maxRetriesPerRequest: null`: BullMQ workers refuse connections without it.
 */
export async function connectTestRedis(): Promise<Redis | undefined> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: null, retryStrategy: () => null });
  // Connection errors also reject the commands that hit them; the event itself would only add noise.
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    await redis.ping();
    return redis;
  } catch (err) {
    redis.disconnect();
    if (process.env.CI === 'true') throw new Error(`Redis is required under CI=true (${REDIS_URL})`, { cause: err });
    process.emitWarning(`packages/queue: Redis not reachable at ${REDIS_URL}; skipping the Redis tests`);
    return undefined;
  }
}

/** `test:<random>:ocsp:`: no two test files (or engineers) share keys. */
export function randomPrefix(): string {
  return `test:${randomBytes(6).toString('hex')}:ocsp:`;
}

/** BullMQ's key prefix under a contract prefix, as staplewarm derives it: `<prefix>bull`. */
export function bullPrefix(prefix: string): string {
  return `${prefix}bull`;
}

/**
 * Deletes every key under the prefix, and the host limiter's Bottleneck keys, which Bottleneck puts
 * outside it (`b_<prefix>bull:hosts-<host>_*`).
 */
export async function deletePrefix(redis: Redis, prefix: string): Promise<void> {
  for (const pattern of [`${prefix}*`, `b_${prefix}*`]) {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== '0');
  }
}

export interface RedisTestContext {
  /** False when Redis is missing (locally): wrap the suite in `describe.skipIf(!ctx.available)`. */
  available: boolean;
  /** The contract prefix (`test:<random>:ocsp:`). */
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
