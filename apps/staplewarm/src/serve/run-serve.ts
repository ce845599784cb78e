import { hostname } from 'node:os';
import { RefreshListener, RefreshScheduler, StapleQueue, type RefreshPolicy, type StapleLogger } from '@staplewarm/queue';
import { StapleStore } from '@staplewarm/store';
import type { Redis } from 'ioredis';
import { queuePrefix, type Config } from '../config.js';
import { startMetricsEndpoint } from '../metrics-endpoint.js';
import { CertIdIndexWriter, jobDataOf } from '../relay/index-writer.js';
import { startWorker } from '../worker/run-worker.js';
import { withoutOcspUrl } from '../export/run-export.js';
import { startServeExport, type ServeExport } from '../export/serve-export.js';
import { ScanLoop } from './scan-loop.js';
import { scanForServe } from './scan-targets.js';
import { ServeScanner } from './serve-scanner.js';
import { ShrinkConfirmations } from './shrink-confirmations.js';

export interface ServeOptions {
  certs: string[];
  /** Run the worker pool in this process; false = only scan and schedule (`staplewarm worker` fetches). */
  work: boolean;
  config: Config;
  policy: RefreshPolicy;
  log: StapleLogger;
  now?: () => number;
  /** Names this process's suspected-shrink hold in Redis. @defaultValue `<host name>:<pid>` */
  processName?: string;
}

/** While a suspected shrink is held, how often serve looks for the operator's confirmation (`staplewarm accept-shrink`). */
const CONFIRMATION_POLL_MS = 2_000;

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
  const queue = new StapleQueue({ connection: redis, prefix, attempts: config.attempts, log });
  const scheduler = new RefreshScheduler({
    queue,
    store,
    connection: redis,
    prefix,
    policy: options.policy,
    attempts: config.attempts,
    now,
    log,
  });
  const listener = new RefreshListener({ connection: redis, prefix, scheduler, queue, store, log });
  // Listen before anything is scheduled: settlements are not replayed.
  await listener.start();
  // The worker pool (with /metrics), as `staplewarm worker` runs it; or /metrics alone.
  const work = options.work
    ? await startWorker(redis, config, log, now)
    : await startMetricsEndpoint(config, { log, redis }).then((m) => ({ metricsUrl: m.url, metrics: m.metrics, stop: () => m.close() }));

  // Exporters (nginx files, HAProxy) follow the staples written from now on; the certificate set comes from each accepted scan.
  let exporting: ServeExport | undefined;
  try {
    exporting = await startServeExport(redis, config, log, now, work.metrics);
  } catch (err) {
    // A bad export directory stops serve before it schedules anything: leave nothing running.
    await work.stop();
    await listener.close();
    await queue.close();
    throw err;
  }
  const scanner = new ServeScanner({
    stores: options.certs,
    scan: async (previous, at) => {
      const scan = await scanForServe(options.certs, previous, { now: at, hash: config.certIdHash, maxFileBytes: config.maxCertFileBytes });
      await certIdIndex.write(scan.targets); // the relay's CertID index, while the scan has each issuer's name
      exporting?.withoutOcspUrl(withoutOcspUrl(scan.report.noOcspUrl));
      return scan;
    },
    // Job data leaves out what only the index needs (BullMQ keeps one delayed job per certificate).
    scheduler: {
      track: (targets) => {
        exporting?.certificates(targets);
        return scheduler.track(targets.map(jobDataOf));
      },
    },
    confirmations: new ShrinkConfirmations(redis, prefix),
    policy: { ratio: config.shrinkRatio, confirmScans: config.shrinkConfirmScans },
    process: options.processName ?? `${hostname()}:${process.pid}`,
    // Rewritten at every scan of a hold: it outlives the next one, so only a dead process drops off the list.
    holdTtlMs: 2 * config.scanIntervalSeconds * 1000 + 60_000,
    metrics: work.metrics,
    log,
    now,
  });
  const loop = new ScanLoop(
    () => scanner.scanOnce(),
    config.scanIntervalSeconds * 1000,
    (err) => log.error({ err }, 'scan failed; retrying at the next interval'),
  );
  await loop.start();
  await exporting?.start();

  // A confirmation takes effect at the next scan; while a hold lasts, look for one every few
  // seconds and rescan at once, rather than leaving the operator waiting up to a scan interval.
  let rescanRequestedFor: string | undefined;
  const confirmationPoll = setInterval(() => {
    const hold = scanner.holding;
    if (!hold || rescanRequestedFor === hold.id) return;
    scanner.holdConfirmed().then(
      (confirmed) => {
        if (!confirmed || scanner.holding?.id !== hold.id) return;
        rescanRequestedFor = hold.id;
        log.info({ hold: hold.id }, 'scan: suspected shrink confirmed by the operator; rescanning');
        loop.request();
      },
      (err: unknown) => log.warn({ err }, 'scan: cannot read the shrink confirmation; retrying'),
    );
  }, CONFIRMATION_POLL_MS);
  confirmationPoll.unref();

  let stopping: Promise<void> | undefined;
  return {
    metricsUrl: work.metricsUrl,
    rescan: () => {
      loop.request();
      exporting?.resync();
    },
    stop: () =>
      (stopping ??= (async () => {
        clearInterval(confirmationPoll);
        await loop.stop();
        await exporting?.stop();
        await scanner.close().catch((err: unknown) => log.warn({ err }, 'serve: cannot unlist the suspected shrink held'));
        // Finish the jobs in flight first: their settlements schedule the next refreshes.
        await work.stop();
        await listener.close();
        await scheduler.idle();
        await queue.close();
      })()),
  };
}
