import { Redis } from 'ioredis';
import type { Config } from './config.js';
import { decodeComponent, redactUrl, Secrets } from './redact.js';

export class RedisUnavailableError extends Error {
  override readonly name = 'RedisUnavailableError';
  readonly code = 'redis-unavailable';
}

export interface ConnectRedisOptions {
  /**
   * The Redis password (from `--redis-password-file`): sent with AUTH, never put in a URL, so it is
   * in no process argument and no message. Overrides a password in the URL.
   */
  password?: string | undefined;
  /** @defaultValue 3000 */
  connectTimeoutMs?: number;
}

/** What every command passes to `connectRedis`: the password file's password and the connect timeout. */
export function connectionOptions(config: Pick<Config, 'redisPassword' | 'connectTimeoutMs'>): ConnectRedisOptions {
  return { password: config.redisPassword, connectTimeoutMs: config.connectTimeoutMs };
}

/**
 * Connects and checks with PING, failing fast with a message naming the server (a CLI run should not
 * hang retrying an unreachable Redis). The connection then retries forever, as BullMQ requires.
 *
 * The credentials (the URL's userinfo, `?password=`, or `opts.password`) become ioredis options
 * rather than staying in the URL, so `redis.duplicate()` (BullMQ's blocking connection, Bottleneck's
 * subscriber) copies them, and the URL ioredis keeps holds none.
 */
export async function connectRedis(url: string, opts: ConnectRedisOptions = {}): Promise<Redis> {
  const { address, username, password } = splitCredentials(url);
  const redis = new Redis(address, {
    ...(username === undefined ? {} : { username }),
    ...(opts.password !== undefined ? { password: opts.password } : password === undefined ? {} : { password }),
    maxRetriesPerRequest: null,
    lazyConnect: true,
    connectTimeout: opts.connectTimeoutMs ?? 3_000,
    retryStrategy: (times) => Math.min(times * 200, 2_000),
  });
  // The first error says why (WRONGPASS, ECONNREFUSED); the failed PING only says "Connection is closed".
  let firstError: Error | undefined;
  redis.on('error', (err: Error) => (firstError ??= err)); // reported below, not as unhandled events
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    redis.disconnect();
    const reason = (firstError ?? (err instanceof Error ? err : undefined))?.message ?? String(err);
    const secrets = Secrets.ofRedis(url, opts.password);
    // No `cause`: ioredis' error carries the AUTH command with the password in `command.args`.
    throw new RedisUnavailableError(`cannot reach Redis at ${redactUrl(url)}: ${secrets.redact(reason)}`);
  }
  redis.removeAllListeners('error');
  redis.on('error', () => {}); // reported through the commands that fail, by their callers
  return redis;
}

/** The URL without userinfo and credential parameters, and those credentials (decoded, as ioredis would send them). */
function splitCredentials(url: string): { address: string; username?: string; password?: string } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // Let ioredis refuse it; the message shows only the placeholder (see redactUrl).
    throw new RedisUnavailableError(`cannot reach Redis at ${redactUrl(url)}: not a valid URL`);
  }
  // Userinfo is percent-encoded in the URL; URLSearchParams has decoded the query already.
  const userinfo = (value: string): string | undefined => (value === '' ? undefined : decodeComponent(value));
  const query = (key: string): string | undefined => parsed.searchParams.get(key) || undefined;
  const username = userinfo(parsed.username) ?? query('username');
  const password = userinfo(parsed.password) ?? query('password');
  parsed.username = '';
  parsed.password = '';
  parsed.searchParams.delete('username');
  parsed.searchParams.delete('password');
  return {
    address: parsed.href,
    ...(username === undefined ? {} : { username }),
    ...(password === undefined ? {} : { password }),
  };
}
