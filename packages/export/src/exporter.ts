/** What every exporter is to the code that drives it (`export` once, `serve` continuously). */
import type { ExportDecision, StoredStaple, WithdrawReason } from './decision.js';

/** Where staples are read: `StapleStore` (Redis contract v1) is one. */
export interface StapleSource {
  get(fingerprint: string): Promise<{ der: Buffer | null; meta: { expiresAt?: Date } | null }>;
}

/** Reads one certificate's staple as the decision wants it. */
export async function readStaple(source: StapleSource, fingerprint: string): Promise<StoredStaple | null> {
  const { der, meta } = await source.get(fingerprint);
  if (!der) return null;
  return meta?.expiresAt ? { der, expiresAt: meta.expiresAt } : { der };
}

/**
 * Why a certificate's staple is not handed over: the staple's own reasons (`WithdrawReason`), or
 * `no-ocsp-url`: the certificate names no OCSP responder (its nginx snippet says so, so that every
 * server block can include one); `retired`: no longer in the certificate stores (its nginx files are withdrawn);
 * `not-loaded`: HAProxy loaded the certificate without an OCSP slot (no `.ocsp` file at start);
 * `not-indexed`: HAProxy has a slot for a CertID the CertID index does not know (no warm or serve
 * scanned that certificate with this Redis prefix).
 */
export type NotExportedReason = WithdrawReason | 'no-ocsp-url' | 'retired' | 'not-loaded' | 'not-indexed';

/** What one pass of an exporter did. */
export interface ExportSyncReport {
  /** Certificates whose staple the server has (or will have after the reload), `revoked` included. */
  exported: number;
  /** Of `exported`, revoked ones: handed over as they are, clients must see them. */
  revoked: number;
  /** Certificates without a staple handed over, by reason. */
  withdrawn: Partial<Record<NotExportedReason, number>>;
  /** Files written or removed, or responses pushed: what changed on the server's side. */
  changed: number;
  /** Certificates that failed (a file not written, a response refused): the first errors are in `errors`. */
  failed: number;
  errors: string[];
}

/** Errors kept in a report: the count says how many more. */
export const ERRORS_KEPT = 20;

export function emptyReport(): ExportSyncReport {
  return { exported: 0, revoked: 0, withdrawn: {}, changed: 0, failed: 0, errors: [] };
}

export function addFailure(report: ExportSyncReport, message: string): void {
  report.failed++;
  if (report.errors.length < ERRORS_KEPT) report.errors.push(message);
}

export function addWithdrawn(report: ExportSyncReport, reason: NotExportedReason): void {
  report.withdrawn[reason] = (report.withdrawn[reason] ?? 0) + 1;
}

export type ExporterKind = 'nginx' | 'haproxy-dir' | 'haproxy-socket';

export interface StapleExporter {
  /** For logs and the `exporter` label of the metrics. */
  readonly kind: ExporterKind;
  /** Brings every certificate's export up to date with Redis. */
  syncAll(): Promise<ExportSyncReport>;
  /** Brings these certificates' exports up to date (the ones the change feed announced). */
  syncFingerprints(fingerprints: ReadonlySet<string>): Promise<ExportSyncReport>;
  /** The earliest time (epoch ms) something exported must be withdrawn, if no newer staple came. */
  nextDeadline(): number | undefined;
  /** Brings the exports whose deadline has come up to date. */
  syncDue(now: number): Promise<ExportSyncReport>;
  /**
   * A cheap look at the server, every few seconds: a full sync when it needs one (a restarted
   * HAProxy lost what was pushed). Undefined when nothing needs watching.
   */
  poll?(): Promise<ExportSyncReport | undefined>;
  /** Waits for what it started (a reload); stops. */
  close(): Promise<void>;
}

/** Counts what was decided for one certificate: handed over (revoked or not), or withdrawn and why. */
export function countDecision(report: ExportSyncReport, decision: ExportDecision): void {
  if (decision.action === 'withdraw') {
    addWithdrawn(report, decision.reason);
    return;
  }
  report.exported++;
  if (decision.status === 'revoked') report.revoked++;
}

/**
 * One pass of an exporter over `items`, `width` at a time: `each` counts into the pass's report, and
 * an error is that item's failure (named by `label`) while the others go on.
 */
export async function exportPass<T>(
  items: readonly T[],
  width: number,
  label: (item: T) => string,
  each: (item: T, report: ExportSyncReport) => Promise<void>,
): Promise<ExportSyncReport> {
  const report = emptyReport();
  await forEachLimited(items, width, async (item) => {
    try {
      await each(item, report);
    } catch (err) {
      addFailure(report, `${label(item)}: ${(err as Error).message}`);
    }
  });
  return report;
}

/** Runs `task` over `items`, `width` at a time, in order of start. */
export async function forEachLimited<T>(items: readonly T[], width: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await task(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, lane));
}
