import type { CertificateState, QueueJobState, StaplewarmMetrics } from '@staplewarm/metrics';
import type { StapleLogger, StapleQueue } from '@staplewarm/queue';
import type { StapleMeta, StapleStore } from '@staplewarm/store';

/**
 * Where one known certificate stands, from its meta hash: a usable staple (good or revoked), a
 * failing one (no usable staple, last attempt failed), or missing. `no_ocsp_url` certificates never
 * reach Redis: only a scanning process (`serve`, `warm`) knows them.
 */
export function certificateStateOf(meta: StapleMeta, now: number): Exclude<CertificateState, 'no_ocsp_url'> {
  const expiresAt = (meta.expiresAt ?? meta.nextUpdate)?.getTime() ?? 0;
  if (expiresAt > now && meta.status === 'good') return 'stapled_good';
  if (expiresAt > now && meta.status === 'revoked') return 'stapled_revoked';
  return meta.lastErrorCode ? 'failing' : 'missing';
}

/** Certificates by state and every usable staple's nextUpdate: one SCAN over the meta hashes. */
export async function storeSnapshot(
  store: StapleStore,
  now: number,
): Promise<{ states: Partial<Record<CertificateState, number>>; nextUpdates: Date[] }> {
  const states: Partial<Record<CertificateState, number>> = {};
  const nextUpdates: Date[] = [];
  for await (const meta of store.scanMeta()) {
    const state = certificateStateOf(meta, now);
    states[state] = (states[state] ?? 0) + 1;
    if ((state === 'stapled_good' || state === 'stapled_revoked') && meta.nextUpdate) nextUpdates.push(meta.nextUpdate);
  }
  return { states, nextUpdates };
}

export interface MetricsSnapshotsOptions {
  metrics: StaplewarmMetrics;
  queue: StapleQueue;
  store: StapleStore;
  log: StapleLogger;
  /** @defaultValue 5000 */
  queueEveryMs?: number;
  /** A SCAN of every meta hash: about a second of Redis work per 50K certificates. @defaultValue 30000 */
  storeEveryMs?: number;
  /**
   * Also set certificates by state from the store; false where the process reports them itself
   * (`warm`: its run's figures, no_ocsp_url included). @defaultValue true
   */
  certificateStates?: boolean;
  /** How long a scrape waits for the snapshot it needs before it is answered with the previous figures. @defaultValue 5000 */
  scrapeWaitMs?: number;
  now?: () => number;
}

/**
 * A scrape takes a store snapshot of its own when this process stored at least this fraction of
 * the staples the last snapshot counted (any staple, when it counted none): a cold start's
 * thousands, not a steady state's few refreshes between two timed snapshots.
 */
const STALE_FRACTION = 0.01;
/** ... at most once per this many ms (scrapes every second, two Prometheus servers). */
const MIN_SCRAPE_SNAPSHOT_MS = 5_000;

/**
 * The gauges that describe shared state, refreshed on timers: queue depth by state (cheap, every few
 * seconds) and certificates by state plus staple expiries (a SCAN, every 30 s). Started only when
 * metrics are served.
 *
 * Right from the first scrape: a scrape waits for the first snapshots (taken at `start()`), and
 * takes a fresh store snapshot when this process has stored many staples since the last one, so a
 * worker that has just stored thousands never shows an empty store (expiry +Inf, every bucket 0)
 * until the next timed snapshot.
 */
export class MetricsSnapshots {
  private readonly timers: NodeJS.Timeout[] = [];
  private running = new Set<Promise<void>>();
  private queueInFlight: Promise<void> | undefined;
  private storeInFlight: Promise<void> | undefined;
  private queueTaken = false;
  private storeTaken = false;
  /** How many staples the last store snapshot counted. */
  private staplesCounted = 0;
  /** When a scrape last started a store snapshot. */
  private scrapeSnapshotAt = Number.NEGATIVE_INFINITY;
  /** Staples this process stored since the last store snapshot began. */
  private storedSince = 0;

  constructor(private readonly options: MetricsSnapshotsOptions) {}

  start(): void {
    const { queueEveryMs = 5_000, storeEveryMs = 30_000 } = this.options;
    this.every(queueEveryMs, () => this.queueJobs());
    this.every(storeEveryMs, () => this.certificates());
  }

  async stop(): Promise<void> {
    for (const timer of this.timers.splice(0)) clearInterval(timer);
    await Promise.allSettled([...this.running]);
  }

  /** This process stored staples (a verified response went to the store): the store snapshot ages. */
  staplesStored(count = 1): void {
    this.storedSince += count;
  }

  /**
   * Before a scrape is answered: waits (at most `scrapeWaitMs`) for the first snapshots, and for a
   * fresh store snapshot when this process stored many staples since the last one.
   */
  async beforeScrape(): Promise<void> {
    const now = this.clock();
    const stale =
      !this.storeTaken ||
      (this.storedSince > 0 &&
        this.storedSince >= this.staplesCounted * STALE_FRACTION &&
        now - this.scrapeSnapshotAt >= MIN_SCRAPE_SNAPSHOT_MS);
    if (stale && this.storeTaken) this.scrapeSnapshotAt = now;
    const pending = [stale ? this.certificates() : undefined, this.queueTaken ? undefined : this.queueJobs()];
    const waited = Promise.all(pending).catch((err: unknown) => this.options.log.warn({ err }, 'metrics: snapshot failed'));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.options.scrapeWaitMs ?? 5_000)));
    await Promise.race([waited, timeout]).finally(() => clearTimeout(timer));
  }

  /** One refresh of the queue gauges (joins the one in flight). */
  queueJobs(): Promise<void> {
    this.queueInFlight ??= this.track(this.takeQueueSnapshot().finally(() => (this.queueInFlight = undefined)));
    return this.queueInFlight;
  }

  /** One refresh of the certificate and staple-expiry gauges (joins the one in flight). */
  certificates(): Promise<void> {
    this.storeInFlight ??= this.track(this.takeStoreSnapshot().finally(() => (this.storeInFlight = undefined)));
    return this.storeInFlight;
  }

  private async takeQueueSnapshot(): Promise<void> {
    const counts = await this.options.queue.jobCounts(); // summed over every host queue
    const jobs: Partial<Record<QueueJobState, number>> = {
      // Prioritized jobs wait too (BullMQ keeps them in their own set).
      waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0),
      active: counts.active ?? 0,
      delayed: counts.delayed ?? 0,
      failed: counts.failed ?? 0,
    };
    this.options.metrics.setQueueJobs(jobs);
    this.queueTaken = true;
  }

  private async takeStoreSnapshot(): Promise<void> {
    const startedAt = this.clock();
    // What is stored from here on may be missed by this SCAN: it counts towards the next one.
    const storedBefore = this.storedSince;
    const { states, nextUpdates } = await storeSnapshot(this.options.store, startedAt);
    if (this.options.certificateStates !== false) this.options.metrics.setCertificateStates(states);
    this.options.metrics.setStapleNextUpdates(nextUpdates);
    this.storeTaken = true;
    this.staplesCounted = nextUpdates.length;
    this.storedSince -= storedBefore;
  }

  private clock(): number {
    return (this.options.now ?? Date.now)();
  }

  /** `stop()` waits for every snapshot in flight, whoever started it. */
  private track(snapshot: Promise<void>): Promise<void> {
    const forget = (): void => {
      this.running.delete(settled);
    };
    const settled = snapshot.then(forget, forget);
    this.running.add(settled);
    return snapshot;
  }

  /** Runs `task` now and every `ms`, one at a time; failures are logged, not fatal. */
  private every(ms: number, task: () => Promise<void>): void {
    let busy = false;
    const run = (): void => {
      if (busy) return;
      busy = true;
      const done = task()
        .catch((err: unknown) => this.options.log.warn({ err }, 'metrics: snapshot failed'))
        .finally(() => {
          busy = false;
          this.running.delete(done);
        });
      this.running.add(done);
    };
    run();
    this.timers.push(setInterval(run, ms).unref());
  }
}
