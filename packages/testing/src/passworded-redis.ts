/**
 * A throwaway `redis-server` with a password, for tests that must change it (`CONFIG SET requirepass`)
 * without disturbing the shared test Redis. Its configuration, password included, goes in on stdin
 * (`redis-server -`), so the password is in none of its arguments either.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { freePort } from './services.js';

export interface PasswordedRedis {
  port: number;
  /** `redis://127.0.0.1:<port>`, without credentials. */
  url: string;
  /** An admin connection that knows the current password (it follows `changePassword`). */
  admin(): Promise<Redis>;
  /** Sets a new password, then drops every normal client so each must authenticate again. */
  changePassword(next: string): Promise<void>;
  stop(): Promise<void>;
}

/** Redis' config syntax: a double-quoted string with `\` and `"` escaped. */
const quoted = (value: string): string => `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;

export async function startPasswordedRedis(password: string): Promise<PasswordedRedis> {
  const port = await freePort();
  const child: ChildProcess = spawn('redis-server', ['-'], { stdio: ['pipe', 'ignore', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.stdin?.end([`port ${port}`, 'bind 127.0.0.1', 'save ""', 'appendonly no', `requirepass ${quoted(password)}`, ''].join('\n'));
  let current = password;
  const connect = async (): Promise<Redis> => {
    const redis = new Redis({
      port,
      host: '127.0.0.1',
      password: current,
      lazyConnect: true,
      maxRetriesPerRequest: 1,
      retryStrategy: () => null,
    });
    redis.on('error', () => {});
    await redis.connect();
    return redis;
  };
  for (let i = 0; ; i++) {
    try {
      (await connect()).disconnect();
      break;
    } catch (err) {
      if (i >= 50) {
        child.kill('SIGKILL');
        throw new Error(`redis-server on port ${port} did not answer`, { cause: err });
      }
      await sleep(100);
    }
  }
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    admin: connect,
    async changePassword(next) {
      const redis = await connect();
      try {
        await redis.config('SET', 'requirepass', next);
        current = next;
        // Kills this connection too (it is a normal client): the reply may never come.
        await redis.client('KILL', 'TYPE', 'normal').catch(() => undefined);
      } finally {
        redis.disconnect();
      }
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
    },
  };
}
