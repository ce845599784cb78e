import type { StaplewarmMetrics } from '@staplewarm/metrics';
import type { StapleLogger } from '@staplewarm/queue';
import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import { startMetricsEndpoint } from '../metrics-endpoint.js';
import { startStaplePool } from './staple-pool.js';

export interface RunningWorker {
  /** `/metrics` URL, when metrics are on. */
  metricsUrl: string | undefined;
  /** The registry behind it (undefined when metrics are off), for what the caller reports itself (serve's scans). */
  metrics: StaplewarmMetrics | undefined;
  /** Finishes the jobs in flight, then closes everything this worker opened (not `redis`). */
  stop(): Promise<void>;
}

/**
 * `staplewarm worker` (and the worker pool of `serve`): works every responder host's queue until
 * stopped, under each host's budget and the global ceiling, and serves /metrics.
 */
export async function startWorker(redis: Redis, config: Config, log: StapleLogger, now: () => number = Date.now): Promise<RunningWorker> {
  const endpoint = await startMetricsEndpoint(config, { log, redis });
  const running = await startStaplePool(redis, config, { log, now, observer: endpoint.observer });
  let stopping: Promise<void> | undefined;
  return {
    metricsUrl: endpoint.url,
    metrics: endpoint.metrics,
    stop: () =>
      (stopping ??= (async () => {
        await running.close();
        await endpoint.close();
      })()),
  };
}
