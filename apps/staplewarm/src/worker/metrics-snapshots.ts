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
  now?: () => number;
}

/**
 * The gauges that describe shared state, refreshed on timers: queue depth by state (cheap, every few
 * seconds) and certificates by state plus staple expiries (a SCAN, every 30 s). Started only when
 * metrics are served.
 */
export class MetricsSnapshots {
  private readonly timers: NodeJS.Timeout[] = [];
  private running = new Set<Promise<void>>();

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

  /** One refresh of the queue gauges. */
  async queueJobs(): Promise<void> {
    const counts = await this.options.queue.queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'prioritized');
    const jobs: Partial<Record<QueueJobState, number>> = {
      // Prioritized jobs wait too (BullMQ keeps them in their own set).
      waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0),
      active: counts.active ?? 0,
      delayed: counts.delayed ?? 0,
      failed: counts.failed ?? 0,
    };
    this.options.metrics.setQueueJobs(jobs);
  }

  /** One refresh of the certificate and staple-expiry gauges. */
  async certificates(): Promise<void> {
    const { states, nextUpdates } = await storeSnapshot(this.options.store, (this.options.now ?? Date.now)());
    this.options.metrics.setCertificateStates(states);
    this.options.metrics.setStapleNextUpdates(nextUpdates);
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
