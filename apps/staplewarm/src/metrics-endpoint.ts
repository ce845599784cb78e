/**
 * `/metrics` for the long-running commands (worker, serve, warm): the one place that decides whether
 * metrics are on (`--metrics-port` / STAPLEWARM_METRICS_PORT, 0 = off), binds the server
 * (`--metrics-host`), adapts StaplewarmMetrics to the worker's observer, and keeps the shared-state
 * gauges fresh: a scrape is answered once the first snapshots are in, and after a fresh store
 * snapshot when this process stored many staples since the last one (see MetricsSnapshots).
 */
import { StaplewarmMetrics, startMetricsServer, type MetricsSource } from '@staplewarm/metrics';
import { StapleQueue, type StapleLogger, type StapleObserver } from '@staplewarm/queue';
import { StapleStore } from '@staplewarm/store';
import type { Redis } from 'ioredis';
import { queuePrefix, type Config } from './config.js';
import { metricsGuard } from './metrics-guard.js';
import { MetricsSnapshots, type MetricsSnapshotsOptions } from './worker/metrics-snapshots.js';

export interface MetricsEndpoint {
  /** The registry to report to; undefined when metrics are off. */
  readonly metrics: StaplewarmMetrics | undefined;
  /** For `StapleDeps.observer`; undefined when metrics are off. */
  readonly observer: StapleObserver | undefined;
  /** e.g. `http://127.0.0.1:9464/metrics`; undefined when metrics are off. */
  readonly url: string | undefined;
  /** Stops the snapshots and the server. */
  close(): Promise<void>;
}

export interface MetricsEndpointOptions {
  log: StapleLogger;
  /**
   * Keep the shared-state gauges fresh from this Redis: queue jobs by state every `queueEveryMs`
   * (5 s), certificates by state and staple expiries from a SCAN of meta every `storeEveryMs` (30 s).
   * Omit (or `snapshots: false`) in processes whose gauges another process reports.
   */
  redis?: Redis;
  snapshots?: false | Pick<MetricsSnapshotsOptions, 'queueEveryMs' | 'storeEveryMs' | 'certificateStates'>;
}

const OFF: MetricsEndpoint = { metrics: undefined, observer: undefined, url: undefined, close: () => Promise.resolve() };

/** Starts `/metrics` as configured; with port 0 it does nothing (and no snapshot runs). */
export async function startMetricsEndpoint(
  config: Pick<Config, 'metricsPort' | 'metricsHost' | 'prefix'>,
  options: MetricsEndpointOptions,
): Promise<MetricsEndpoint> {
  if (config.metricsPort === 0) return OFF;
  const metrics = new StaplewarmMetrics();
  let snapshots: MetricsSnapshots | undefined;
  let queue: StapleQueue | undefined;
  if (options.redis && options.snapshots !== false) {
    queue = new StapleQueue({ connection: options.redis, prefix: queuePrefix(config.prefix), log: options.log });
    snapshots = new MetricsSnapshots({
      metrics,
      queue,
      store: new StapleStore(options.redis, { prefix: config.prefix }),
      log: options.log,
      ...options.snapshots,
    });
    snapshots.start();
  }
  const source = snapshots ? scrapedAfter(metrics, snapshots) : metrics;
  const server = await startMetricsServer(source, { port: config.metricsPort, host: config.metricsHost });
  options.log.info({ url: server.url }, `metrics: serving ${server.url}`);
  return {
    metrics,
    observer: metricsObserver(metrics, options.log, snapshots),
    url: server.url,
    close: async () => {
      await snapshots?.stop();
      await queue?.close();
      await server.close();
    },
  };
}

/**
 * The worker's observer, reporting to StaplewarmMetrics. The outcome words are the same on both
 * sides (the compiler checks it here); a metric that refuses a value is logged once, never thrown
 * into a job.
 */
export function metricsObserver(metrics: StaplewarmMetrics, log: StapleLogger, snapshots?: MetricsSnapshots): StapleObserver {
  const guard = metricsGuard(log);
  return {
    fetchObserved: (host, outcome, seconds) => {
      guard(() => metrics.fetchObserved(host, outcome, seconds));
      // A verified good or revoked response: the worker is writing it to the store now.
      if (outcome === 'ok') snapshots?.staplesStored();
    },
    rateLimited: (host, seconds) => guard(() => metrics.rateLimited(host, seconds)),
    revocationSeen: () => guard(() => metrics.revocationSeen()),
  };
}

/** `metrics` as /metrics serves it: each scrape first brings the shared-state gauges up to date. */
function scrapedAfter(metrics: StaplewarmMetrics, snapshots: MetricsSnapshots): MetricsSource {
  return {
    get contentType() {
      return metrics.contentType;
    },
    text: async () => {
      await snapshots.beforeScrape();
      return metrics.text();
    },
  };
}

/**
 * The shared-state gauges as of now, taken once: what `warm --textfile` writes is the store and the
 * queue as the run leaves them (a SCAN of meta: about a second per 50K certificates).
 */
export async function snapshotSharedState(
  metrics: StaplewarmMetrics,
  redis: Redis,
  options: { prefix: string; log: StapleLogger; certificateStates?: boolean },
): Promise<void> {
  const queue = new StapleQueue({ connection: redis, prefix: queuePrefix(options.prefix), log: options.log });
  const snapshots = new MetricsSnapshots({
    metrics,
    queue,
    store: new StapleStore(redis, { prefix: options.prefix }),
    log: options.log,
    certificateStates: options.certificateStates,
  });
  try {
    await Promise.all([snapshots.queueJobs(), snapshots.certificates()]);
  } finally {
    await queue.close();
  }
}
