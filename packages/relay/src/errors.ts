/**
 * Stable error codes of packages/relay. Requests never throw: every client mistake is an answer
 * (malformedRequest, 405, 413...). These are the operator's mistakes and the server's own failures.
 * - `invalid-listen`: a listen address that is not `HOST:PORT` (`[v6]:PORT` for IPv6).
 * - `invalid-option`: a relay option out of range.
 * - `listen-failed`: the address is taken or cannot be bound.
 */
export type RelayErrorCode = 'invalid-listen' | 'invalid-option' | 'listen-failed';

export class RelayError extends Error {
  override readonly name = 'RelayError';
  readonly code: RelayErrorCode;

  constructor(code: RelayErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

export function isRelayError(err: unknown): err is RelayError {
  return err instanceof RelayError;
}
