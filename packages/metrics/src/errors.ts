/**
 * Stable error codes of packages/metrics.
 * - `invalid-label`: a label value that would raise cardinality or break the exposition
 *   (a responder given as a URL instead of a host, an empty host).
 * - `invalid-value`: a negative or non-finite count, duration or progress figure.
 * - `invalid-port`: a metrics port outside 0..65535.
 * - `listen-failed`: the /metrics server could not bind (port in use, address not available).
 * - `invalid-textfile-path`: node_exporter's textfile collector only reads `*.prom` files.
 * - `textfile-write-failed`: writing or renaming the textfile failed.
 */
export type MetricsErrorCode =
  'invalid-label' | 'invalid-value' | 'invalid-port' | 'listen-failed' | 'invalid-textfile-path' | 'textfile-write-failed';

export class MetricsError extends Error {
  override readonly name = 'MetricsError';
  readonly code: MetricsErrorCode;

  constructor(code: MetricsErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

export function isMetricsError(err: unknown): err is MetricsError {
  return err instanceof MetricsError;
}

/** Throws `invalid-value` unless `value` is a finite number >= 0. */
export function assertNonNegative(value: number, what: string): void {
  if (!Number.isFinite(value) || value < 0) {
    throw new MetricsError('invalid-value', `${what} must be a finite number >= 0, got ${value}`);
  }
}
