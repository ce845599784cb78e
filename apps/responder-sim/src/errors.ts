/**
 * Stable error codes of the simulator.
 * - `bad-option`: an option (library or CLI) is out of range or malformed.
 * - `pki-missing`: a file the responder needs is not in the PKI directory (run `generate` first).
 * - `pki-invalid`: a PKI file is present but does not parse.
 */
export type SimErrorCode = 'bad-option' | 'pki-missing' | 'pki-invalid';

export class SimError extends Error {
  override readonly name = 'SimError';
  readonly code: SimErrorCode;

  constructor(code: SimErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

export function isSimError(err: unknown): err is SimError {
  return err instanceof SimError;
}
