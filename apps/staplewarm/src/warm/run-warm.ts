import type { StaplewarmMetrics } from '@staplewarm/metrics';
import {
  JobTracker,
  type StapleObserver,
  StapleQueue,
  needsFetch,
  planJobs,
  type JobSettlement,
  type StapleLogger,
} from '@staplewarm/queue';
import { scanCertificateStores, type ScanReport, type ScannedTarget } from '@staplewarm/scan';
import { StapleStore } from '@staplewarm/store';
import type { Redis } from 'ioredis';
import { queuePrefix, type Config } from '../config.js';
import type { Progress } from '../progress.js';
import { CertIdIndexWriter, jobDataOf } from '../relay/index-writer.js';
import { fetchedCertificate, summarize, type FetchedCertificate, type SettledJob, type WarmSummary } from './summary.js';
import { NO_WORKER_NOTICE_MS, noWorkerNotice, watchForWorkers } from './worker-watch.js';

export interface WarmOptions {
  certs: string[];
  /** Fetch every certificate, even those whose staple is fresh. */
  force: boolean;
  /** Run workers in this process; false = enqueue and wait for other worker processes. */
  work: boolean;
  config: Config;
  log: StapleLogger;
  progress: Progress;
  /** Cold-start gauges and fetch counters for this run (`--metrics-port`, `--textfile`). */
  metrics?: { metrics: StaplewarmMetrics; observer: StapleObserver };
  /** Where a line for the person running warm goes (no worker connected). @defaultValue a warning in the log */
  notice?: (line: string) => void;
  now?: () => number;
}

/**
 * The cold-reboot warm-up: scan → skip fresh staples → enqueue → work → wait → summary. Targets are
 * enqueued in batches while the scan still reads, so fetching starts within a second even for 50K
 * certificates. Workers may be in this process or elsewhere; completion is observed through the
 * queue's events. The run gives up after `warmTimeoutSeconds` (`--timeout`), counted from its start:
 * whatever has not settled by then is reported under `timeout` (its job stays queued for a worker).
 */
export async function runWarm(redis: Redis, options: WarmOptions): Promise<WarmSummary> {
  const now = options.now ?? Date.now;
  const { config, log, progress } = options;
  const startedAt = now();
  // A warm run is a cold start: the gauge measures from here until every staple is in.
  const coldStart = options.metrics?.metrics.coldStart;
  coldStart?.start(startedAt);

  const store = new StapleStore(redis, { prefix: config.prefix });
  const certIdIndex = new CertIdIndexWriter(redis, config.prefix);
  const prefix = queuePrefix(config.prefix);
  const queue = new StapleQueue({ connection: redis, prefix, attempts: config.attempts, log });
  const toFetch = new Map<string, FetchedCertificate>();
  let scanning = true;
  let settledSoFar = 0;
  let failedSoFar = 0;
  const showProgress = (): void => {
    progress.update(settledSoFar, failedSoFar);
    // While the scan runs the total still grows: catching up with it is not the end of the cold start.
    if (!scanning || settledSoFar < toFetch.size) coldStart?.progress(settledSoFar, toFetch.size, now());
  };
  // This process's own worker pool; with --no-work the HTTP client (undici) is not even loaded.
  const workers = options.work
    ? await import('../worker/staple-pool.js').then(({ startStaplePool }) =>
        startStaplePool(redis, config, { store, now, log, observer: options.metrics?.observer }),
      )
    : undefined;

  const tracker = new JobTracker({
    connection: redis,
    prefix,
    queue,
    // In-process workers report their own jobs: the queues' event streams are then not read.
    ...(workers ? { local: workers.pool } : {}),
    onSettled: (settled) => {
      settledSoFar++;
      if (settled.state !== 'completed') failedSoFar++;
      showProgress();
    },
  });
  let fetchStartedAt: number | undefined;
  let fresh = 0;
  // One batch of scan results: what is not fresh in Redis is tracked (before it is added: events
  // are not replayed) and enqueued.
  const enqueue = async (batch: ScannedTarget[]): Promise<void> => {
    // The relay's CertID index, for every certificate scanned (fresh ones too), alongside the read.
    const [states] = await Promise.all([
      options.force ? new Map<string, never>() : store.states(batch.map((t) => t.fingerprint)),
      certIdIndex.write(batch),
    ]);
    const due = batch.filter((t) => options.force || needsFetch(states.get(t.fingerprint), startedAt, t.fingerprint));
    fresh += batch.length - due.length;
    if (due.length === 0) return;
    fetchStartedAt ??= now();
    for (const target of due) toFetch.set(target.fingerprint, fetchedCertificate(target));
    const targets = due.map(jobDataOf);
    const routes = await queue.route(targets);
    // Jobs of up to --batch-size certificates of one host queue, in the scan's order.
    const jobs = planJobs(targets, routes, config.batchSize);
    await tracker.track(jobs); // events are not replayed: listen to a host's queue before its first job
    progress.setTotal(toFetch.size);
    await queue.add(jobs);
    // A host new to this run: the in-process pool opens its queue now rather than at its next round.
    const working = new Set(workers?.pool.hosts());
    if (workers && [...routes.values()].some((host) => !working.has(host))) await workers.pool.sync();
  };

  // Every run has a deadline: a warm run must end, even when nobody works its queue (--no-work with
  // no worker), or a responder hangs, or it runs from a boot script that waits for it.
  const timeoutMs = config.warmTimeoutSeconds * 1000;
  const deadline = new AbortController();
  const deadlineTimer = setTimeout(() => deadline.abort(), Math.max(0, startedAt + timeoutMs - now()));
  // With --no-work, say so early when no worker is there to take the jobs, rather than wait in silence.
  let noWorker = false;
  const stopWatching = options.work
    ? () => {}
    : watchForWorkers(
        { getWorkersCount: () => queue.workersCount() },
        {
          afterMs: NO_WORKER_NOTICE_MS,
          stillWaiting: () => scanning || tracker.remaining > 0,
          onNone: () => {
            noWorker = true;
            const line = noWorkerNotice({
              queue: 'staple@*',
              queuePrefix: prefix,
              redisUrl: config.redisUrl,
              afterSeconds: NO_WORKER_NOTICE_MS / 1000,
              timeoutSeconds: config.warmTimeoutSeconds,
            });
            if (options.notice) options.notice(line);
            else log.warn({ queue: 'staple@*' }, line);
          },
          log,
        },
      );
  let report: ScanReport;
  let scanSeconds = 0;
  let settlements = new Map<string, JobSettlement>();
  let unfinished: string[] = [];
  try {
    progress.start();
    report = await scanCertificateStores(options.certs, {
      now: startedAt,
      hash: config.certIdHash,
      maxFileBytes: config.maxCertFileBytes,
      onTargets: enqueue,
      // What the summary needs of each target is kept by `enqueue`: not a copy of every target.
      keepTargets: false,
      // The scan yields the CPU to the fetching (in this process, or workers beside it with
      // --no-work): it only has to stay ahead of it, and a fetch short of work leaves it the CPU.
      // Measured either way in docs/benchmarks.md ("Scan priority").
      lowPriority: true,
    });
    scanning = false;
    scanSeconds = (now() - startedAt) / 1000;
    progress.scanned();
    log.info(
      {
        targets: report.targetCount,
        problems: report.problems.length,
        files: report.filesRead,
        toFetch: toFetch.size,
        // The priority the scan actually ran at (absent where it could not be lowered).
        scanThreadNice: report.threadNice,
      },
      'scan finished',
    );
    showProgress();
    settlements = await tracker.wait({ signal: deadline.signal });
    unfinished = tracker.unsettled();
  } finally {
    clearTimeout(deadlineTimer);
    stopWatching();
    progress.stop();
    await Promise.allSettled([workers?.close(), tracker.close()]);
    await queue.trimEvents().catch(() => {});
    await queue.close().catch(() => {});
  }
  const fetchSeconds = fetchStartedAt === undefined ? 0 : (now() - fetchStartedAt) / 1000;

  // Jobs that left the queue unseen: the store says how they ended (the only I/O of the report).
  const ended: SettledJob[] = [];
  for (const settled of settlements.values()) {
    if (toFetch.has(settled.id)) ended.push(settled.state === 'gone' ? await resolveGone(store, settled.id, startedAt) : settled);
  }
  const timeoutReason =
    `not finished within --timeout ${config.warmTimeoutSeconds} s` +
    `${noWorker ? ' (no worker was connected to the queue)' : ''}; its job stays queued for a worker`;
  if (unfinished.length > 0) {
    log.warn({ unfinished: unfinished.length, timeoutSeconds: config.warmTimeoutSeconds, noWorker }, `warm: gave up: ${timeoutReason}`);
  }
  const summary = summarize({
    report,
    toFetch,
    ended,
    unfinished,
    timeoutReason,
    fresh,
    scanSeconds,
    fetchSeconds,
    elapsedSeconds: (now() - startedAt) / 1000,
  });
  reportStates(options.metrics?.metrics, summary, now());
  return summary;
}

/** The run's final figures as gauges (what `--textfile` writes for cron-driven runs). */
function reportStates(metrics: StaplewarmMetrics | undefined, summary: WarmSummary, now: number): void {
  if (!metrics) return;
  const failed = summary.failures.length + summary.unknown;
  // Nothing was fetched (every staple fresh): the cold start is over at once.
  if (metrics.coldStart.state === 'running' && failed === 0) metrics.coldStart.finish(now);
  metrics.setCertificateStates({
    stapled_good: summary.stored.good,
    stapled_revoked: summary.stored.revoked,
    no_ocsp_url: summary.noOcspUrl,
    failing: failed,
    missing: failed + summary.problems.length,
  });
}

/** A job that left the queue unseen: the store says how it ended. */
async function resolveGone(
  store: StapleStore,
  fingerprint: string,
  since: number,
): Promise<Extract<JobSettlement, { state: 'completed' | 'failed' }>> {
  const { der, meta } = await store.get(fingerprint);
  if (der && meta?.status && meta.status !== 'unknown' && (meta.fetchedAt?.getTime() ?? 0) >= since) {
    return { id: fingerprint, state: 'completed', result: { outcome: 'stored', status: meta.status, responder: meta.responder ?? '' } };
  }
  if (meta?.lastErrorCode && (meta.lastErrorAt?.getTime() ?? 0) >= since) {
    return { id: fingerprint, state: 'failed', code: meta.lastErrorCode, reason: meta.lastError ?? meta.lastErrorCode };
  }
  return { id: fingerprint, state: 'failed', code: 'lost', reason: 'the job left the queue without a result' };
}
