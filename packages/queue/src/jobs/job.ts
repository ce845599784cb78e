import type { StapleTarget } from '@staplewarm/ocsp';

/** Job name: one job fetches, verifies and stores one certificate's staple. */
export const FETCH_JOB = 'fetch';
/** Job name of a batch: several certificates of one host queue (a cold start's `warm`). */
export const FETCH_BATCH_JOB = 'fetch-batch';

/**
 * A job's data is the scan's target as is: everything needed to fetch and verify, nothing the
 * worker would have to read from disk. jobId = fingerprint, so a rescan never duplicates a job.
 */
export type StapleJobData = StapleTarget;

/** What a completed job returns (BullMQ stores it as JSON). */
export type StapleJobResult =
  | { outcome: 'stored'; status: 'good' | 'revoked'; responder: string }
  | { outcome: 'kept'; status: 'good' | 'revoked'; responder: string; reason: 'older' | 'revoked-kept' };

/** How one certificate of a batch ended. */
export type CertificateSettlement =
  | { fingerprint: string; state: 'completed'; result: StapleJobResult }
  | { fingerprint: string; state: 'failed'; code: string; reason: string };

/**
 * A batch job's data: the certificates it still has to fetch, and how those it is done with ended
 * (kept in the job across its runs: when it comes back, it carries only the unfinished ones).
 * One BullMQ job per ~16 certificates instead of one each: its add, take and finish steps are most
 * of Redis' work per certificate in a cold start (docs/benchmarks.md).
 */
export interface StapleBatchData {
  targets: StapleTarget[];
  settled: CertificateSettlement[];
  /** Failed attempts so far of the certificates in `targets` (by fingerprint; none: 0). */
  tries?: Record<string, number>;
}

/** What a completed batch returns: every certificate's own ending. */
export interface StapleBatchResult {
  batch: CertificateSettlement[];
}

/** The data of any job in a host queue. */
export type QueuedJobData = StapleJobData | StapleBatchData;
export type QueuedJobResult = StapleJobResult | StapleBatchResult;

export function isBatchData(data: QueuedJobData): data is StapleBatchData {
  return Array.isArray((data as Partial<StapleBatchData>).targets);
}

export function isBatchResult(result: QueuedJobResult): result is StapleBatchResult {
  return Array.isArray((result as Partial<StapleBatchResult>).batch);
}

/** Logger shape the library accepts (pino's call signature). */
export interface StapleLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export const silentLogger: StapleLogger = { info() {}, warn() {}, error() {} };
