import { collectDefaultMetrics, Registry } from 'prom-client';
import { ColdStartTracker } from './cold-start.js';
import { assertNonNegative } from './errors.js';
import { createInstruments, type Instruments } from './instruments.js';
import {
  ALL_STAPLES_BUCKET,
  CERTIFICATE_STATES,
  EXPORTERS,
  HELD_REASONS,
  QUEUE_JOB_STATES,
  REMAINING_LIFETIME_BUCKETS,
  type CertificateState,
  type ExporterKind,
  type FetchOutcome,
  type HeldReason,
  type QueueJobState,
} from './names.js';
import { ResponderLabels, DEFAULT_MAX_RESPONDERS } from './responder.js';
import { StapleLifetimes } from './staple-lifetimes.js';

export interface StaplewarmMetricsOptions {
  /**
   * Also export prom-client's default Node.js metrics (CPU, memory, event-loop lag, GC).
   * @defaultValue true
   */
  defaultMetrics?: boolean;
  /**
   * Clock (epoch milliseconds) for the gauges computed at scrape time: the soonest staple expiry
   * and the remaining-lifetime buckets count down between two `setStapleNextUpdates` calls.
   * @defaultValue Date.now
   */
  now?: () => number;
  /**
   * Distinct `responder` label values at most; hosts seen after that many are reported as `other`.
   * @defaultValue 100
   */
  maxResponders?: number;
}

/**
 * The one place that owns prom-client. Callers report domain events (a fetch ended, a responder
 * paused us, a revocation) and snapshots (certificates by state, queue depth, staples' nextUpdate);
 * this class turns them into the metrics listed in the package README.
 */
export class StaplewarmMetrics {
  /** Cold-start timing; `start`/`progress`/`finish` drive the staplewarm_coldstart_* gauges. */
  readonly coldStart: ColdStartTracker;
  /** Everything: staplewarm metrics plus the default Node.js metrics (for /metrics). */
  private readonly registry = new Registry();
  /** staplewarm metrics only (for the node_exporter textfile, where process metrics would clash). */
  private readonly ownRegistry = new Registry();
  private readonly instruments: Instruments;
  private readonly now: () => number;
  private lifetimes = new StapleLifetimes([]);
  private readonly responders: ResponderLabels;

  constructor(options: StaplewarmMetricsOptions = {}) {
    const { defaultMetrics = true, now = Date.now, maxResponders = DEFAULT_MAX_RESPONDERS } = options;
    this.now = now;
    this.responders = new ResponderLabels(maxResponders);
    this.instruments = createInstruments([this.registry, this.ownRegistry], {
      stapleExpiry: (gauge) => gauge.set(this.lifetimes.soonestExpirySeconds(this.now())),
      remainingLifetime: (gauge) => {
        const at = this.now();
        for (const { within, seconds } of REMAINING_LIFETIME_BUCKETS) {
          gauge.set({ within }, this.lifetimes.countExpiringWithin(seconds, at));
        }
        gauge.set({ within: ALL_STAPLES_BUCKET }, this.lifetimes.size);
      },
    });
    if (defaultMetrics) collectDefaultMetrics({ register: this.registry });
    // Every state is exported from the start (as 0), so rules and panels never see a gap.
    this.setCertificateStates({});
    this.setQueueJobs({});
    this.setHeldCertificates({});
    for (const exporter of EXPORTERS) this.exportObserved(exporter, 0, 0);
    for (const ok of [true, false]) this.instruments.exportReloadsTotal.inc({ result: ok ? 'ok' : 'failed' }, 0);
    const { coldStartSeconds, coldStartProgressRatio, coldStartInProgress } = this.instruments;
    this.coldStart = new ColdStartTracker({
      started: () => coldStartInProgress.set(1),
      progressed: (ratio) => coldStartProgressRatio.set(ratio),
      finished: (seconds) => {
        coldStartSeconds.set(seconds);
        coldStartInProgress.set(0);
      },
    });
  }

  /** Content-Type of `text()` (Prometheus text format 0.0.4). */
  get contentType(): string {
    return this.registry.contentType;
  }

  /**
   * One OCSP fetch attempt ended. `responderHost` is the responder's host (see `responderHost(url)`),
   * never a URL or a certificate name; `seconds` is the attempt's duration, whatever the outcome.
   * Past `maxResponders` distinct hosts, new ones are counted as `other`.
   */
  fetchObserved(responderHost: string, outcome: FetchOutcome, seconds: number): void {
    assertNonNegative(seconds, 'fetch duration');
    const responder = this.responders.label(responderHost);
    this.instruments.fetchesTotal.inc({ responder, outcome });
    this.instruments.fetchDurationSeconds.observe({ responder }, seconds);
  }

  /** Fetches to `responderHost` were paused for `pausedSeconds` after a 429 (Retry-After or backoff). */
  rateLimited(responderHost: string, pausedSeconds: number): void {
    assertNonNegative(pausedSeconds, 'rate-limit pause');
    this.instruments.rateLimitedSecondsTotal.inc({ responder: this.responders.label(responderHost) }, pausedSeconds);
  }

  /**
   * A certificate we serve was found revoked. Call it once per certificate newly seen revoked
   * (not on every refresh of an already revoked staple), so the counter counts revocations.
   */
  revocationSeen(count = 1): void {
    assertNonNegative(count, 'revocation count');
    this.instruments.revokedTotal.inc(count);
  }

  /** Snapshot of all known certificates by state; states left out are 0. */
  setCertificateStates(counts: Partial<Record<CertificateState, number>>): void {
    for (const state of CERTIFICATE_STATES) {
      const count = counts[state] ?? 0;
      assertNonNegative(count, `certificates in state ${state}`);
      this.instruments.certificates.set({ state }, count);
    }
  }

  /** Snapshot of the staple queue by BullMQ state; states left out are 0. */
  setQueueJobs(counts: Partial<Record<QueueJobState, number>>): void {
    for (const state of QUEUE_JOB_STATES) {
      const count = counts[state] ?? 0;
      assertNonNegative(count, `jobs in state ${state}`);
      this.instruments.queueJobs.set({ state }, count);
    }
  }

  /**
   * Snapshot, after each scan of `serve`: certificates still tracked although the scan did not
   * find them, by reason; reasons left out are 0.
   */
  setHeldCertificates(counts: Partial<Record<HeldReason, number>>): void {
    for (const reason of HELD_REASONS) {
      const count = counts[reason] ?? 0;
      assertNonNegative(count, `certificates held for ${reason}`);
      this.instruments.scanHeldCertificates.set({ reason }, count);
    }
  }

  /** A rescan began a suspected shrink (once per episode, not once per scan of it). */
  shrinkSuspected(): void {
    this.instruments.scanSuspectedShrinksTotal.inc();
  }

  /** One exporter pass changed `changes` files or pushes and failed for `failures` certificates (or 1: the pass failed). */
  exportObserved(exporter: ExporterKind, changes: number, failures: number): void {
    assertNonNegative(changes, 'export changes');
    assertNonNegative(failures, 'export failures');
    this.instruments.exportChangesTotal.inc({ exporter }, changes);
    this.instruments.exportFailuresTotal.inc({ exporter }, failures);
  }

  /** The nginx reload command ran. */
  exportReloaded(ok: boolean): void {
    this.instruments.exportReloadsTotal.inc({ result: ok ? 'ok' : 'failed' });
  }

  /**
   * Snapshot of every stored staple's nextUpdate (Dates or epoch ms). Replaces the previous one;
   * `staplewarm_staple_expiry_seconds` and the remaining-lifetime buckets are computed from it at
   * each scrape, so they stay current between calls.
   */
  setStapleNextUpdates(nextUpdates: Iterable<Date | number>): void {
    this.lifetimes = new StapleLifetimes(nextUpdates);
  }

  /** The exposition served on /metrics: staplewarm metrics and, unless disabled, Node.js metrics. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  /** The staplewarm metrics only, for `writeTextfile` (node_exporter exports its own process metrics). */
  textfileText(): Promise<string> {
    return this.ownRegistry.metrics();
  }
}
