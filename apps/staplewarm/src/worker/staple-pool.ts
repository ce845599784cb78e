import { OcspVerifier } from '@staplewarm/ocsp';
import { StaplePool, type StapleLogger, type StapleObserver } from '@staplewarm/queue';
import { StapleStore } from '@staplewarm/store';
import type { Redis } from 'ioredis';
import { queuePrefix, type Config } from '../config.js';
import { ocspClientFor } from './ocsp-client.js';

export interface RunningPool {
  pool: StaplePool;
  /** Finishes the jobs in flight, then closes the pool and its OCSP client (not `redis`). */
  close(): Promise<void>;
}

/**
 * The one way staplewarm builds a worker pool: `worker`, `serve` and `warm` (without --no-work) all
 * call this, so the settings they pass (rates, retry base, address policy...) cannot drift apart.
 */
export async function startStaplePool(
  redis: Redis,
  config: Config,
  opts: { log: StapleLogger; now?: () => number; observer?: StapleObserver | undefined; store?: StapleStore },
): Promise<RunningPool> {
  const client = ocspClientFor(config);
  const pool = new StaplePool({
    connection: redis,
    prefix: queuePrefix(config.prefix),
    rate: config.rate,
    defaultHostRate: config.defaultHostRate,
    hostRates: config.hostRates,
    concurrency: config.concurrency,
    backoff: { baseMs: config.retryBaseMs, maxMs: config.retryMaxMs },
    deps: {
      client,
      verifier: new OcspVerifier(),
      store: opts.store ?? new StapleStore(redis, { prefix: config.prefix }),
      now: opts.now ?? Date.now,
      log: opts.log,
      ...(opts.observer ? { observer: opts.observer } : {}),
    },
  });
  pool.on('error', (err) => opts.log.error({ err }, 'worker pool: queue error'));
  await pool.start();
  let closing: Promise<void> | undefined;
  return {
    pool,
    close: () =>
      (closing ??= (async () => {
        await pool.close(); // the jobs in flight finish first
        await client.close();
      })()),
  };
}
