import type { FetchError } from '@staplewarm/fetch';
import type { OcspError } from '@staplewarm/ocsp';

/**
 * Why one attempt at a certificate failed. `code` is stable and comes from the layer that failed:
 * fetch (`http-status`, `rate-limited`, `timeout`...), ocsp (`bad-signature`, `unsuccessful:tryLater`...)
 * or the job itself (`status-unknown`). `retryable` decides between BullMQ retry and giving up.
 */
export class StapleJobError extends Error {
  override readonly name = 'StapleJobError';
  readonly code: string;
  readonly retryable: boolean;
  /** Server-requested wait (429 Retry-After), when there was one. */
  readonly retryAfterMs: number | undefined;
  readonly responder: string | undefined;

  constructor(code: string, detail: string, opts: { retryable: boolean; retryAfterMs?: number; responder?: string; cause?: unknown }) {
    // The code leads the message: BullMQ keeps only the message as `failedReason`.
    super(`${code}: ${detail}`, { cause: opts.cause });
    this.code = code;
    this.retryable = opts.retryable;
    this.retryAfterMs = opts.retryAfterMs;
    this.responder = opts.responder;
  }

  static fromFetch(err: FetchError): StapleJobError {
    return new StapleJobError(err.code === 'http-status' ? `http-${err.status ?? 'status'}` : err.code, err.message, {
      retryable: err.retryable,
      retryAfterMs: err.retryAfterMs,
      responder: err.url,
      cause: err,
    });
  }

  static fromOcsp(err: OcspError, responder: string): StapleJobError {
    return new StapleJobError(err.code, `${responder}: ${err.message}`, { retryable: err.retryable, responder, cause: err });
  }
}

/** Reads back the code from a BullMQ `failedReason` written by StapleJobError (or anything else). */
export function failureCode(failedReason: string | undefined): string {
  const match = /^([A-Za-z0-9:-]+): /.exec(failedReason ?? '');
  return match?.[1] ?? 'error';
}
