import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { findFreePort } from '@staplewarm/responder-sim';
import { Redis } from 'ioredis';

export class NoRedisError extends Error {
  override readonly name = 'NoRedisError';
  readonly code = 'no-redis';
}

/** A throwaway redis-server (no persistence) on a free port, for the demo when no Redis answers. */
export interface PrivateRedis {
  url: string;
  stop(): void;
}

export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await findFreePort();
  let child: ChildProcess;
  try {
    child = await new Promise<ChildProcess>((resolve, reject) => {
      const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
        stdio: 'ignore',
      });
      proc.once('error', reject);
      proc.once('spawn', () => resolve(proc));
    });
  } catch {
    throw new NoRedisError(
      'no Redis answers at REDIS_URL (default redis://127.0.0.1:6379) and no redis-server is on PATH. ' +
        'Install one (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis) or set REDIS_URL.',
    );
  }
  const url = `redis://127.0.0.1:${port}`;
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on('error', () => {});
  for (let i = 0; i < 50; i++) {
    try {
      await probe.connect();
      await probe.ping();
      probe.disconnect();
      return { url, stop: () => child.kill('SIGTERM') };
    } catch {
      await sleep(100);
    }
  }
  child.kill('SIGKILL');
  throw new NoRedisError(`started redis-server on port ${port} but it did not answer`);
}
