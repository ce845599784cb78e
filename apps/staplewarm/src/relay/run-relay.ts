/**
 * `staplewarm relay`: the OCSP relay (packages/relay) wired to this deployment's Redis: the CertID
 * index as its source, the shared queue for its misses, RelayMetrics on `/metrics`.
 */
import { OcspRelay, startRelayServer, type RelayLogger } from '@staplewarm/relay';
import { CertIdIndex } from '@staplewarm/store';
import type { Redis } from 'ioredis';
import { queuePrefix, type Config } from '../config.js';
import { QueueMissFetcher } from './queue-fetcher.js';
import { startRelayMetrics } from './relay-metrics.js';

export interface RunningRelay {
  /** `http://host:port/`: the URL servers are given. */
  url: string;
  /** `/metrics` URL, when metrics are on. */
  metricsUrl: string | undefined;
  /** Stops accepting, answers waiting requests (503), closes what it opened (not `redis`). */
  stop(): Promise<void>;
}

/**
 * Starts the relay. `redis` is the command's connection (BullMQ's queue needs one that retries
 * forever); lookups use a duplicate that fails fast, so a Redis outage is a 503 within a second,
 * not a request left hanging until Redis is back.
 */
export async function startRelay(redis: Redis, config: Config, log: RelayLogger, now: () => number = Date.now): Promise<RunningRelay> {
  const lookups = redis.duplicate({ maxRetriesPerRequest: 1, enableOfflineQueue: false, commandTimeout: 1_000, lazyConnect: true });
  lookups.on('error', () => {}); // failed lookups are answered 503 and logged by the relay
  await lookups.connect();
  const fetcher = new QueueMissFetcher({ connection: redis, prefix: queuePrefix(config.prefix), attempts: config.attempts });
  const metrics = await startRelayMetrics(config, log);
  const relay = new OcspRelay({
    source: new CertIdIndex(lookups, { prefix: config.prefix }),
    fetcher,
    certIdHash: config.certIdHash,
    log,
    now,
    ...(metrics.observer ? { observer: metrics.observer } : {}),
  });
  let server: Awaited<ReturnType<typeof startRelayServer>>;
  try {
    server = await startRelayServer(relay, {
      listen: config.relayListen,
      log,
      now,
      ...(metrics.observer ? { observer: metrics.observer } : {}),
    });
  } catch (err) {
    await Promise.allSettled([metrics.close(), fetcher.close()]);
    lookups.disconnect();
    throw err;
  }
  let stopping: Promise<void> | undefined;
  return {
    url: server.url,
    metricsUrl: metrics.url,
    stop: () =>
      (stopping ??= (async () => {
        await server.close();
        await Promise.allSettled([fetcher.close(), metrics.close()]);
        lookups.disconnect();
      })()),
  };
}
