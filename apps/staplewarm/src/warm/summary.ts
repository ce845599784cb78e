import type { JobSettlement } from '@staplewarm/queue';
import type { ScanProblem, ScanReport, ScannedTarget } from '@staplewarm/scan';
import { countBy } from '../count-by.js';
import { safeLine } from '../escape.js';

/** A certificate that ended without a staple, with the reason. */
export interface WarmFailure {
  fingerprint: string;
  names: string[];
  path: string;
  code: string;
  reason: string;
}

/** Everything a warm run did, as numbers a person (or a script, with --json) can act on. */
export interface WarmSummary {
  filesRead: number;
  keyFilesSkipped: number;
  /** Distinct leaf certificates found. */
  certificates: number;
  /** Leaves with a usable OCSP URL and issuer. */
  targets: number;
  /** Already had a staple not yet due for refresh: not fetched (see --force). */
  fresh: number;
  /** Jobs this run enqueued. */
  fetched: number;
  stored: { good: number; revoked: number };
  /** Verified, but the store kept its existing staple (older response, or revoked already stored). */
  kept: number;
  /** The responder answered "unknown". */
  unknown: number;
  /** Certificates whose fetch failed, by reason code. */
  failed: Record<string, number>;
  failures: WarmFailure[];
  /** Valid leaves without an OCSP URL: expected for short-lived certificates, not an error. */
  noOcspUrl: number;
  /** Files and certificates that could not be used, by reason code. */
  problemCounts: Record<string, number>;
  problems: ScanProblem[];
  elapsedSeconds: number;
  /** Seconds the scan took, from the start; fetching begins with its first batch, so they overlap. */
  scanSeconds: number;
  /** Seconds from the first job enqueued to the last settled. */
  fetchSeconds: number;
  /** Certificates fetched per second over fetchSeconds. */
  rate: number;
  /** Every certificate with an OCSP URL has a staple and no input was unusable. */
  complete: boolean;
}

/** The failure code of a certificate still unfinished when `--timeout` ran out. */
export const TIMEOUT_CODE = 'timeout';

/** How a job ended, as far as the run knows (a job that left the queue unseen has been looked up). */
export type SettledJob = Extract<JobSettlement, { state: 'completed' | 'failed' }>;

/** What the summary needs of a certificate it fetches: its names and first path, for a failure. */
export interface FetchedCertificate {
  names: readonly string[];
  path: string;
}

/** The record `warm` keeps of a target it enqueues (not the target: ~0.9 KB each, a GB at 1M). */
export function fetchedCertificate(target: Pick<ScannedTarget, 'names' | 'paths'>): FetchedCertificate {
  return { names: target.names, path: target.paths[0] ?? '' };
}

/** Everything a warm run found and saw settle: the input of its summary. */
export interface WarmRun {
  report: Pick<ScanReport, 'filesRead' | 'keyFilesSkipped' | 'leaves' | 'targetCount' | 'noOcspUrl' | 'problems'>;
  /** The certificates this run enqueued, by fingerprint. */
  toFetch: ReadonlyMap<string, FetchedCertificate>;
  ended: readonly SettledJob[];
  /** Fingerprints still pending when the run gave up (`--timeout`), and the reason given for them. */
  unfinished: readonly string[];
  timeoutReason: string;
  fresh: number;
  scanSeconds: number;
  fetchSeconds: number;
  elapsedSeconds: number;
}

/**
 * Pure: a run's figures. Each enqueued certificate lands in exactly one place: stored (good or
 * revoked), kept (the store held a better staple), unknown (the responder does not know it), or
 * failed by reason (`timeout` when the run gave up on it); settlements of certificates this run did
 * not enqueue are ignored. `complete` when nothing failed and every input was usable.
 */
export function summarize(run: WarmRun): WarmSummary {
  const { report, toFetch } = run;
  const summary: WarmSummary = {
    filesRead: report.filesRead,
    keyFilesSkipped: report.keyFilesSkipped,
    certificates: report.leaves,
    targets: report.targetCount,
    fresh: run.fresh,
    fetched: toFetch.size,
    stored: { good: 0, revoked: 0 },
    kept: 0,
    unknown: 0,
    failed: {},
    failures: [],
    noOcspUrl: report.noOcspUrl.length,
    problemCounts: countBy(report.problems, (p) => p.code),
    problems: report.problems,
    elapsedSeconds: run.elapsedSeconds,
    scanSeconds: run.scanSeconds,
    fetchSeconds: run.fetchSeconds,
    rate: toFetch.size / Math.max(run.fetchSeconds, 0.001),
    complete: false,
  };
  const fail = (fingerprint: string, target: FetchedCertificate, code: string, reason: string): void => {
    summary.failed[code] = (summary.failed[code] ?? 0) + 1;
    summary.failures.push({ fingerprint, names: [...target.names], path: target.path, code, reason });
  };
  const counted = new Set<string>();
  for (const ended of run.ended) {
    const target = toFetch.get(ended.id);
    if (!target || counted.has(ended.id)) continue;
    counted.add(ended.id);
    if (ended.state === 'completed') {
      if (ended.result.outcome === 'stored') summary.stored[ended.result.status]++;
      else summary.kept++;
    } else if (ended.code === 'status-unknown') {
      summary.unknown++;
    } else {
      fail(ended.id, target, ended.code, ended.reason);
    }
  }
  for (const fingerprint of run.unfinished) {
    const target = toFetch.get(fingerprint);
    if (!target || counted.has(fingerprint)) continue;
    counted.add(fingerprint);
    fail(fingerprint, target, TIMEOUT_CODE, run.timeoutReason);
  }
  summary.complete = summary.failures.length + summary.unknown === 0 && report.problems.length === 0;
  return summary;
}

/** The human summary printed at the end of `warm` (and `demo`). Pure. */
export function formatSummary(s: WarmSummary, opts: { maxListed?: number } = {}): string {
  const maxListed = opts.maxListed ?? 20;
  const failedTotal = Object.values(s.failed).reduce((a, b) => a + b, 0);
  const lines = [
    `certificates     ${s.certificates} (files read ${s.filesRead}, key files skipped ${s.keyFilesSkipped})`,
    `with OCSP URL    ${s.targets}${s.fresh ? ` (${s.fresh} already fresh, ${s.fetched} fetched)` : ''}`,
    `stored good      ${s.stored.good}`,
    `stored revoked   ${s.stored.revoked}`,
    ...(s.kept ? [`kept existing    ${s.kept}`] : []),
    `unknown          ${s.unknown}`,
    `no OCSP URL      ${s.noOcspUrl}`,
    `failed           ${failedTotal}${failedTotal ? `  (${formatCounts(s.failed)})` : ''}`,
    `unusable input   ${s.problems.length}${s.problems.length ? `  (${formatCounts(s.problemCounts)})` : ''}`,
    `elapsed          ${s.elapsedSeconds.toFixed(1)} s (scan ${s.scanSeconds.toFixed(1)} s; fetching ${s.fetchSeconds.toFixed(1)} s, ${Math.round(s.rate)} certs/s)`,
  ];
  for (const p of s.problems.slice(0, maxListed)) lines.push(`  ${p.code}: ${p.path}: ${p.detail}`);
  if (s.problems.length > maxListed) lines.push(`  ... and ${s.problems.length - maxListed} more unusable inputs (--json lists all)`);
  for (const f of s.failures.slice(0, maxListed)) lines.push(`  ${f.code}: ${f.path} (${f.names.join(', ')}): ${f.reason}`);
  if (s.failures.length > maxListed) lines.push(`  ... and ${s.failures.length - maxListed} more failures (--json lists all)`);
  lines.push(s.complete ? 'result: every certificate with an OCSP URL has a staple' : 'result: NOT every certificate was warmed');
  // Paths, names, details and reasons come from certificate files and responders: one line each, as text.
  return lines.map(safeLine).join('\n');
}

function formatCounts(counts: Record<string, number>): string {
  return Object.entries(counts)
    .sort((a, b) => b[1] - a[1])
    .map(([code, n]) => `${code} ${n}`)
    .join(', ');
}
