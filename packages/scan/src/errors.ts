/**
 * Errors of packages/scan. Everything wrong with the certificate stores is a ScanProblem in the
 * report, never an error; a ScanError means the scan itself could not run or finish:
 * - `invalid-option`: an option out of its range (the message names it).
 * - `worker-failed`: the scan's thread could not start, crashed (an exception, out of memory) or
 *   exited before it finished; the message says which, `cause` has the thread's error.
 * - `scan-stalled`: the scan's thread made no progress for `stallTimeoutMs` (a read that does not
 *   return: a hung network filesystem); the message names the path. Also the error of a scan
 *   started while the thread of a stalled one is still blocked.
 */
export type ScanErrorCode = 'invalid-option' | 'worker-failed' | 'scan-stalled';

export class ScanError extends Error {
  override readonly name = 'ScanError';
  readonly code: ScanErrorCode;

  constructor(code: ScanErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
