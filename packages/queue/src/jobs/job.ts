import type { StapleTarget } from '@staplewarm/ocsp';

/** Job name: one job fetches, verifies and stores one certificate's staple. */
export const FETCH_JOB = 'fetch';

/**
 * A job's data is the scan's target as is: everything needed to fetch and verify, nothing the
 * worker would have to read from disk. jobId = fingerprint, so a rescan never duplicates a job.
 */
export type StapleJobData = StapleTarget;

/** What a completed job returns (BullMQ stores it as JSON). */
export type StapleJobResult =
  | { outcome: 'stored'; status: 'good' | 'revoked'; responder: string }
  | { outcome: 'kept'; status: 'good' | 'revoked'; responder: string; reason: 'older' | 'revoked-kept' };

/** Logger shape the library accepts (pino's call signature). */
export interface StapleLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export const silentLogger: StapleLogger = { info() {}, warn() {}, error() {} };
