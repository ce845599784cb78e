import type { ScanProblem } from '@staplewarm/scan';
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

export function countBy<T>(items: readonly T[], key: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1;
  return counts;
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
