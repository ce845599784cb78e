/**
 * A throwaway redis-server of a test's own on a free port, started with extra config arguments, for
 * settings the shared Redis must not get (an evicting `maxmemory-policy`, ACL users). Stopped by its
 * pid, never by name. Without redis-server on PATH the tests skip locally, and fail under CI=true.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis, type RedisOptions } from 'ioredis';
import { freePort } from './services.js';

export interface RedisServer {
  port: number;
  /** `redis://127.0.0.1:<port>` */
  url: string;
  /** A new connection (the caller disconnects it); `options` adds a username/password, etc. */
  connect(options?: RedisOptions): Promise<Redis>;
  stop(): Promise<void>;
}

/** Is redis-server on PATH? Under CI=true its absence is an error, not a skip. */
export function hasRedisServer(who: string): boolean {
  const found = spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
  if (!found && process.env.CI === 'true') throw new Error(`${who}: redis-server is required under CI=true`);
  if (!found) process.emitWarning(`${who}: no redis-server on PATH; skipping the private Redis tests`);
  return found;
}

/** Starts `redis-server` without persistence, with extra config arguments (`['--maxmemory-policy', 'allkeys-lru']`). */
export async function startRedisServer(args: readonly string[] = []): Promise<RedisServer> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...args],
    {
      stdio: 'ignore',
    },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const connect = async (options: RedisOptions = {}): Promise<Redis> => {
    const redis = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, ...options });
    redis.on('error', () => undefined);
    await redis.connect();
    return redis;
  };
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  for (let i = 0; i < 50; i++) {
    try {
      const probe = await connect();
      await probe.ping();
      probe.disconnect();
      return { port, url: `redis://127.0.0.1:${port}`, connect, stop };
    } catch {
      await sleep(100);
    }
  }
  await stop();
  throw new Error(`redis-server ${args.join(' ')} did not answer on port ${port}`);
}
