import type { StaplewarmMetrics } from '@staplewarm/metrics';
import type { RefreshScheduler, StapleLogger } from '@staplewarm/queue';
import type { ScannedTarget } from '@staplewarm/scan';
import { countBy } from '../count-by.js';
import type { ServeScan } from './scan-targets.js';
import type { ShrinkConfirmations } from './shrink-confirmations.js';
import { decideShrink, missingFrom, type ShrinkHold, type ShrinkPolicy } from './shrink-guard.js';

export interface ServeScannerOptions {
  /** The process's `--certs` (for the published hold). */
  stores: readonly string[];
  /** Scans the stores; `previous` is what is tracked now (certificates of unreadable stores are carried from it). */
  scan: (previous: ReadonlyMap<string, ScannedTarget>, now: number) => Promise<ServeScan>;
  /** Told of every accepted set of certificates (the shrink guard's holds included). */
  scheduler: { track(targets: ScannedTarget[]): ReturnType<RefreshScheduler['track']> };
  confirmations: ShrinkConfirmations;
  policy: ShrinkPolicy;
  /** `<host name>:<pid>`: names this process's hold in Redis and in `accept-shrink`'s list. */
  process: string;
  /** How long a published hold outlives its last scan: past the next one, so only a dead process drops off the list. */
  holdTtlMs: number;
  /** Where the held certificates and suspected shrinks are reported (undefined: metrics are off). */
  metrics: StaplewarmMetrics | undefined;
  log: StapleLogger;
  now: () => number;
  /** A new hold's id. @defaultValue `<process>@<epoch ms>` */
  holdId?: (now: number) => string;
}

/**
 * One `serve` process's view of its certificate stores: each scan replaces the tracked set, except
 * that the shrink guard (shrink-guard.ts) keeps the accepted certificates a suspicious scan did not
 * find, until the operator confirms or enough scans agree.
 */
export class ServeScanner {
  /** What the scheduler tracks: the last accepted scan, plus what a hold keeps. */
  private tracked = new Map<string, ScannedTarget>();
  /** The certificates of the last accepted scan: the baseline a shrink is measured against. */
  private accepted = new Map<string, ScannedTarget>();
  private hold: ShrinkHold | undefined;

  constructor(private readonly options: ServeScannerOptions) {}

  /** The suspected shrink being held back, if any. */
  get holding(): ShrinkHold | undefined {
    return this.hold;
  }

  /** Has the operator confirmed the hold in progress? (Then a rescan should run now.) */
  async holdConfirmed(): Promise<boolean> {
    const hold = this.hold;
    return hold !== undefined && (await this.options.confirmations.isConfirmed(this.options.process, hold.id));
  }

  async scanOnce(): Promise<void> {
    const { log, now, policy } = this.options;
    const startedAt = now();
    const scan = await this.options.scan(this.tracked, startedAt);
    const hold = this.hold;
    const decision = decideShrink(
      {
        known: this.accepted.size,
        found: scan.targets.length,
        hold,
        confirmed: await this.holdConfirmed(),
        now: startedAt,
        newHoldId: (this.options.holdId ?? ((at) => `${this.options.process}@${at}`))(startedAt),
      },
      policy,
    );
    const held = decision.action === 'hold' ? missingFrom(this.accepted, scan.targets) : [];
    const targets = held.length > 0 ? [...scan.targets, ...held] : scan.targets;
    const result = await this.options.scheduler.track(targets);
    this.tracked = new Map(targets.map((t) => [t.fingerprint, t]));

    const { report } = scan;
    log.info(
      {
        ...result,
        held: held.length,
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

    const known = this.accepted.size;
    const found = scan.targets.length;
    if (decision.action === 'hold') {
      this.hold = decision.hold;
      const { scans, id, since } = decision.hold;
      await this.options.confirmations.publish(
        {
          process: this.options.process,
          id,
          stores: [...this.options.stores],
          known,
          found,
          held: held.length,
          scans,
          confirmScans: policy.confirmScans,
          since: new Date(since).toISOString(),
        },
        this.options.holdTtlMs,
      );
      log.warn(
        { known, found, held: held.length, scans, confirmScans: policy.confirmScans, since: new Date(since).toISOString() },
        `scan: suspected shrink: found ${found} of ${known} known certificates; the ${held.length} missing stay scheduled ` +
          `(scan ${scans} of ${policy.confirmScans}; \`staplewarm accept-shrink\` confirms the removal)`,
      );
    } else {
      this.accepted = this.tracked;
      this.hold = undefined;
      if (decision.ended) await this.options.confirmations.release(this.options.process);
      if (decision.reason === 'confirmed' || decision.reason === 'agreed') {
        const how = decision.reason === 'confirmed' ? 'confirmed by the operator' : `${decision.ended.scans} scans agreed`;
        log.warn(
          { known, found, removed: result.removed, reason: decision.reason },
          `scan: shrink accepted (${how}): ${result.removed} certificates dropped`,
        );
      } else if (decision.ended) {
        log.info({ known, found }, 'scan: the certificate stores are back; the suspected shrink is over');
      }
    }
    // A new episode (not the next scan of one) counts once, even when accepted at once (confirmScans 1).
    if (!hold && (decision.action === 'hold' || decision.reason !== 'no-shrink')) this.options.metrics?.shrinkSuspected();
    this.options.metrics?.setHeldCertificates({ suspected_shrink: held.length, unreadable_store: scan.carried });
  }

  /** Unlists this process's hold (at a clean stop: the hold dies with the process, which starts afresh). */
  async close(): Promise<void> {
    if (this.hold) await this.options.confirmations.release(this.options.process);
  }
}
