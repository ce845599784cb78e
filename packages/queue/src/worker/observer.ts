import type { FetchError } from '@staplewarm/fetch';
import type { OcspErrorCode } from '@staplewarm/ocsp';

/**
 * How one HTTP exchange with a responder ended. The same words as the `outcome` label of
 * `staplewarm_fetches_total` (packages/metrics), which this package does not import.
 */
export const ATTEMPT_OUTCOMES = [
  'ok',
  'http_429',
  'http_error',
  'timeout',
  'network',
  'malformed',
  'verify_failed',
  'try_later',
  'unauthorized',
  'unknown_status',
] as const;
export type AttemptOutcome = (typeof ATTEMPT_OUTCOMES)[number];

/**
 * What the worker reports as it goes, for metrics. Optional: the app adapts its metrics registry to
 * it. Calls are synchronous and must not throw.
 */
export interface StapleObserver {
  /** One HTTP exchange with `responderHost` (host[:port]) ended; `seconds` is its duration. */
  fetchObserved(responderHost: string, outcome: AttemptOutcome, seconds: number): void;
  /** This process paused fetches to `responderHost` for `pausedSeconds` after a 429. */
  rateLimited(responderHost: string, pausedSeconds: number): void;
  /** A certificate was newly found revoked (its stored staple was not revoked before). */
  revocationSeen(): void;
}

export const silentObserver: StapleObserver = { fetchObserved() {}, rateLimited() {}, revocationSeen() {} };

/**
 * The outcome of a failed exchange; undefined when nothing was sent (a URL that is not http(s), an
 * address the policy refused): those are not exchanges, and would give certificate owners a metric
 * label of their choosing.
 */
export function fetchErrorOutcome(err: FetchError): AttemptOutcome | undefined {
  switch (err.code) {
    case 'rate-limited':
      return 'http_429';
    case 'http-status':
    case 'content-type':
    case 'oversize':
      return 'http_error';
    case 'timeout':
      return 'timeout';
    case 'connect':
    case 'network':
      return 'network';
    case 'bad-url':
    case 'address-refused':
      return undefined;
  }
}

/** The outcome of a response that came back 2xx but did not verify (or was not `successful`). */
export function ocspErrorOutcome(code: OcspErrorCode): AttemptOutcome {
  switch (code) {
    case 'malformed':
    case 'malformed-certificate':
      return 'malformed';
    case 'unsuccessful:tryLater':
      return 'try_later';
    case 'unsuccessful:unauthorized':
    case 'unsuccessful:sigRequired':
      return 'unauthorized';
    // The responder's own failure, or it could not read our request: a server-side error.
    case 'unsuccessful:internalError':
    case 'unsuccessful:malformedRequest':
      return 'http_error';
    case 'certid-mismatch':
    case 'bad-signature':
    case 'unauthorized-signer':
    case 'unsupported-algorithm':
    case 'not-yet-valid':
    case 'expired':
    case 'no-next-update':
      return 'verify_failed';
  }
}
