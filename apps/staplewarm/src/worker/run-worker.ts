import type { StaplewarmMetrics } from '@staplewarm/metrics';
import { OcspVerifier } from '@staplewarm/ocsp';
import { createStapleWorker, DEFAULT_BACKOFF, type StapleLogger } from '@staplewarm/queue';
import { StapleStore } from '@staplewarm/store';
import type { Redis } from 'ioredis';
import { queuePrefix, type Config } from '../config.js';
import { startMetricsEndpoint } from '../metrics-endpoint.js';
import { ocspClientFor } from './ocsp-client.js';

export interface RunningWorker {
  /** `/metrics` URL, when metrics are on. */
  metricsUrl: string | undefined;
  /** The registry behind it (undefined when metrics are off), for what the caller reports itself (serve's scans). */
  metrics: StaplewarmMetrics | undefined;
  /** Finishes the jobs in flight, then closes everything this worker opened (not `redis`). */
  stop(): Promise<void>;
}

/**
 * `staplewarm worker` (and the worker pool of `serve`): takes staple jobs from the shared queue until
 * stopped, under the global rate (BullMQ limiter) and the per-host budgets, and serves /metrics.
 */
export async function startWorker(redis: Redis, config: Config, log: StapleLogger, now: () => number = Date.now): Promise<RunningWorker> {
  const endpoint = await startMetricsEndpoint(config, { log, redis });
  const client = ocspClientFor(config);
  const worker = createStapleWorker({
    connection: redis,
    prefix: queuePrefix(config.prefix),
    rate: config.rate,
    hostRates: config.hostRates,
    concurrency: config.concurrency,
    // Retries within a job wait as in `warm` (STAPLEWARM_RETRY_BASE_MS), not the library default.
    backoff: { ...DEFAULT_BACKOFF, baseMs: config.retryBaseMs },
    deps: {
      client,
      verifier: new OcspVerifier(),
      store: new StapleStore(redis, { prefix: config.prefix }),
      now,
      log,
      ...(endpoint.observer ? { observer: endpoint.observer } : {}),
    },
  });
  worker.on('error', (err) => log.error({ err }, 'worker error'));
  await worker.waitUntilReady();

  let stopping: Promise<void> | undefined;
  return {
    metricsUrl: endpoint.url,
    metrics: endpoint.metrics,
    stop: () =>
      (stopping ??= (async () => {
        await worker.close();
        await Promise.allSettled([client.close(), endpoint.close()]);
      })()),
  };
}
