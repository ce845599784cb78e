/**
 * Errors of packages/scan. Everything wrong with the certificate stores is a ScanProblem in the
 * report, never an error; a ScanError means the caller passed options that cannot work.
 * - `invalid-option`: an option out of its range (the message names it).
 */
export type ScanErrorCode = 'invalid-option';

export class ScanError extends Error {
  override readonly name = 'ScanError';
  readonly code: ScanErrorCode;

  constructor(code: ScanErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}
