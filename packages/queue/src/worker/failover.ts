import { performance } from 'node:perf_hooks';
import type { OcspClient, OcspFetchResult, OcspHttpResponse } from '@staplewarm/fetch';
import { StapleJobError } from '../jobs/errors.js';
import type { HostLimiter } from '../hosts/host-limiter.js';
import { fetchErrorOutcome, type StapleObserver } from './observer.js';
import { responderHostOf } from '../hosts/responder-urls.js';

export interface FailoverDeps {
  client: OcspClient;
  limiter: HostLimiter;
  observer: StapleObserver;
  /** The clock, epoch ms. */
  now: () => number;
}

/**
 * - `answered`: a responder sent a usable 2xx body (still to verify).
 * - `hand-back`: none answered, but a host that may answer later was paused (429), busy or backlogged:
 *   the job goes back to the queue until `until` without spending an attempt.
 * - `failed`: every URL failed for reasons of its own (the attempt is spent, retried if `retryable`).
 */
export type FailoverOutcome =
  { kind: 'answered'; response: OcspHttpResponse } | { kind: 'hand-back'; until: number } | { kind: 'failed'; error: StapleJobError };

/** Failures where the responder never answered: they count towards its circuit breaker. */
const NO_ANSWER: ReadonlySet<string> = new Set(['timeout', 'connect', 'network']);
/** Nothing was sent: the host is neither up nor down. */
const NOT_SENT: ReadonlySet<string> = new Set(['address-refused', 'bad-url']);

/**
 * Tries a certificate's responder URLs in order until one answers. Each URL's host goes through
 * its own limiter permit first (rate, 429 pause, requests in flight, circuit breaker), and its
 * answer or silence feeds that host's breaker: failing over to a second host spends that host's
 * budget, not the first one's. A 429 pauses its host for every process and moves on to the next
 * URL; when nothing answered and some host was paused or busy, the job is handed back.
 *
 * When every URL failed, the error is the first retryable one (another attempt may succeed through
 * that URL), else the first one.
 */
export async function fetchWithFailover(urls: readonly string[], der: Buffer, deps: FailoverDeps): Promise<FailoverOutcome> {
  const failures: StapleJobError[] = [];
  let handBackUntil = Infinity;
  for (const url of urls) {
    const host = responderHostOf(url);
    if (host !== '') {
      const permit = await deps.limiter.acquire(host);
      if (!permit.granted && permit.reason === 'down') {
        const message = `${host} stopped answering; next try after ${new Date(permit.until).toISOString()}`;
        failures.push(new StapleJobError('host-down', message, { retryable: true, responder: url }));
        continue;
      }
      if (!permit.granted) {
        handBackUntil = Math.min(handBackUntil, permit.until);
        continue;
      }
    }
    const sentAt = deps.now();
    const started = performance.now();
    let fetched: OcspFetchResult;
    try {
      // One URL per call: the client's own failover would skip the next host's limiter.
      fetched = await deps.client.fetch({ urls: [url], der });
    } catch (err) {
      if (host !== '') deps.limiter.released(host);
      throw err;
    }
    observeFailedExchanges(deps.observer, fetched, (performance.now() - started) / 1000);
    if (fetched.ok) {
      if (host !== '') deps.limiter.answered(host);
      return { kind: 'answered', response: fetched.response };
    }
    const error = fetched.error;
    if (host !== '') {
      if (NOT_SENT.has(error.code)) deps.limiter.released(host);
      else if (NO_ANSWER.has(error.code)) deps.limiter.unanswered(host);
      else deps.limiter.answered(host);
    }
    if (error.code === 'rate-limited' && host !== '') {
      const { until, pausedMs } = await deps.limiter.rateLimited(host, { sentAt, retryAfterMs: error.retryAfterMs });
      if (pausedMs > 0) deps.observer.rateLimited(host, pausedMs / 1000);
      handBackUntil = Math.min(handBackUntil, until);
      continue;
    }
    failures.push(StapleJobError.fromFetch(error));
  }
  if (handBackUntil !== Infinity) return { kind: 'hand-back', until: handBackUntil };
  const error =
    failures.find((failure) => failure.retryable) ??
    failures[0] ??
    new StapleJobError('bad-url', 'the certificate lists no OCSP URL', { retryable: false });
  return { kind: 'failed', error };
}

/**
 * Reports every exchange that failed (all of them, or those before the one that answered). Only the
 * answered one has its own duration; the others share the rest of the call's time.
 */
function observeFailedExchanges(observer: StapleObserver, fetched: OcspFetchResult, totalSeconds: number): void {
  if (fetched.attempts.length === 0) return;
  const answeredSeconds = fetched.ok ? fetched.response.elapsedMs / 1000 : 0;
  const each = Math.max(0, totalSeconds - answeredSeconds) / fetched.attempts.length;
  for (const err of fetched.attempts) {
    const outcome = fetchErrorOutcome(err);
    if (outcome !== undefined && err.host !== '') observer.fetchObserved(err.host, outcome, each);
  }
}
