import { RefreshListener, RefreshScheduler, StapleQueue, type RefreshPolicy, type StapleLogger } from '@staplewarm/queue';
import type { ScannedTarget } from '@staplewarm/scan';
import { StapleStore } from '@staplewarm/store';
import type { Redis } from 'ioredis';
import { queuePrefix, type Config } from '../config.js';
import { startMetricsEndpoint } from '../metrics-endpoint.js';
import { CertIdIndexWriter, jobDataOf } from '../relay/index-writer.js';
import { countBy } from '../warm/summary.js';
import { startWorker } from '../worker/run-worker.js';
import { ScanLoop } from './scan-loop.js';
import { scanForServe } from './scan-targets.js';

export interface ServeOptions {
  certs: string[];
  /** Run the worker pool in this process; false = only scan and schedule (`staplewarm worker` fetches). */
  work: boolean;
  config: Config;
  policy: RefreshPolicy;
  log: StapleLogger;
  now?: () => number;
}

/** A running `serve`: rescan on demand (SIGHUP), stop cleanly (SIGTERM). */
export interface Serving {
  /** `/metrics` URL, when metrics are on. */
  metricsUrl: string | undefined;
  rescan(): void;
  stop(): Promise<void>;
}

/**
 * The long-running service: scan → track → schedule each certificate's next refresh as a delayed
 * job → work the queue, and after every settled job schedule the next one. Everything shared lives
 * in Redis, so several `serve` processes can run against one Redis (docs/refresh.md).
 */
export async function startServe(redis: Redis, options: ServeOptions): Promise<Serving> {
  const { config, log } = options;
  const now = options.now ?? Date.now;
  const prefix = queuePrefix(config.prefix);
  const store = new StapleStore(redis, { prefix: config.prefix });
  const certIdIndex = new CertIdIndexWriter(redis, config.prefix);
  const queue = new StapleQueue({ connection: redis, prefix, attempts: config.attempts });
  const scheduler = new RefreshScheduler({
    queue: queue.queue,
    store,
    connection: redis,
    prefix,
    policy: options.policy,
    attempts: config.attempts,
    now,
    log,
  });
  const listener = new RefreshListener({ connection: redis, prefix, scheduler, store, log });
  // Listen before anything is scheduled: settlements are not replayed.
  await listener.start();
  // The worker pool (with /metrics), as `staplewarm worker` runs it; or /metrics alone.
  const work = options.work
    ? await startWorker(redis, config, log, now)
    : await startMetricsEndpoint(config, { log, redis }).then((m) => ({ metricsUrl: m.url, stop: () => m.close() }));

  let tracked = new Map<string, ScannedTarget>();
  const scanOnce = async (): Promise<void> => {
    const startedAt = now();
    const scan = await scanForServe(options.certs, tracked, {
      now: startedAt,
      hash: config.certIdHash,
      maxFileBytes: config.maxCertFileBytes,
    });
    await certIdIndex.write(scan.targets); // the relay's CertID index, while the scan has each issuer's name
    // Job data leaves out what only the index needs (BullMQ keeps one delayed job per certificate).
    const result = await scheduler.track(scan.targets.map(jobDataOf));
    tracked = new Map(scan.targets.map((t) => [t.fingerprint, t]));
    const { report } = scan;
    log.info(
      {
        ...result,
        noOcspUrl: report.noOcspUrl.length,
        problems: report.problems.length,
        files: report.filesRead,
        seconds: (now() - startedAt) / 1000,
      },
      `scan: tracking ${result.tracked} certificates (${result.added} new, ${result.removed} removed, ${result.dueNow} due now)`,
    );
    if (report.problems.length > 0) log.warn({ problems: countBy(report.problems, (p) => p.code) }, 'scan: unusable certificate files');
    if (scan.unreadableStores.length > 0) {
      log.error(
        { stores: scan.unreadableStores, carried: scan.carried },
        'scan: certificate stores could not be read; their certificates stay scheduled from the previous scan',
      );
    }
  };
  const loop = new ScanLoop(scanOnce, config.scanIntervalSeconds * 1000, (err) =>
    log.error({ err }, 'scan failed; retrying at the next interval'),
  );
  await loop.start();

  let stopping: Promise<void> | undefined;
  return {
    metricsUrl: work.metricsUrl,
    rescan: () => loop.request(),
    stop: () =>
      (stopping ??= (async () => {
        await loop.stop();
        // Finish the jobs in flight first: their settlements schedule the next refreshes.
        await work.stop();
        await listener.close();
        await scheduler.idle();
        await queue.close();
      })()),
  };
}
