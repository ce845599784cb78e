import { Redis } from 'ioredis';

export class RedisUnavailableError extends Error {
  override readonly name = 'RedisUnavailableError';
  readonly code = 'redis-unavailable';
}

/** Hides the password of a Redis URL for messages and logs. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^@/]*)@/, (_m, auth: string) => `//${auth.includes(':') ? `${auth.split(':')[0]}:***` : '***'}@`);
}

/**
 * Connects and checks with PING, failing fast with a message naming the server (a CLI run should not
 * hang retrying an unreachable Redis). The connection then retries forever, as BullMQ requires.
 */
export async function connectRedis(url: string, opts: { connectTimeoutMs?: number } = {}): Promise<Redis> {
  const redis = new Redis(url, {
    maxRetriesPerRequest: null,
    lazyConnect: true,
    connectTimeout: opts.connectTimeoutMs ?? 3_000,
    retryStrategy: (times) => Math.min(times * 200, 2_000),
  });
  redis.on('error', () => {}); // reported through the failed PING / commands, not as unhandled events
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    redis.disconnect();
    const reason = err instanceof Error ? err.message : String(err);
    throw new RedisUnavailableError(`cannot reach Redis at ${redactUrl(url)}: ${reason}`, { cause: err });
  }
  return redis;
}
