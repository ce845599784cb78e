import type { OcspClient, OcspFetchResult } from '@staplewarm/fetch';
import { isOcspError, type OcspVerifier, type Staple } from '@staplewarm/ocsp';
import type { StapleStore } from '@staplewarm/store';
import { StapleJobError } from './errors.js';
import type { StapleJobData, StapleJobResult, StapleLogger } from './job.js';
import { fetchErrorOutcome, ocspErrorOutcome, silentObserver, type AttemptOutcome, type StapleObserver } from './observer.js';

/** What processing one certificate needs; passed in so tests and apps choose the real parts. */
export interface StapleDeps {
  client: OcspClient;
  verifier: OcspVerifier;
  store: StapleStore;
  /** The clock, epoch ms. */
  now: () => number;
  log: StapleLogger;
  /** Receives every exchange's outcome and newly seen revocations (metrics). */
  observer?: StapleObserver;
}

/**
 * Fetch, verify, store: one certificate, one attempt. Throws StapleJobError for anything that did not
 * end in a verified response; the store is only ever written with verified responses, and its
 * last-known-good script decides whether the new one replaces the old.
 */
export async function processStaple(target: StapleJobData, deps: StapleDeps): Promise<StapleJobResult> {
  const observer = deps.observer ?? silentObserver;
  const started = performance.now();
  const fetched = await deps.client.fetch({ urls: target.ocspUrls, der: Buffer.from(target.request, 'base64') });
  observeFailedExchanges(observer, fetched, (performance.now() - started) / 1000);
  if (!fetched.ok) throw StapleJobError.fromFetch(fetched.error);
  const responder = fetched.response.url;
  const responderHost = hostOf(responder);
  const observe = (outcome: AttemptOutcome): void => {
    if (responderHost !== '') observer.fetchObserved(responderHost, outcome, fetched.response.elapsedMs / 1000);
  };

  let staple: Staple;
  try {
    staple = deps.verifier.verify(
      fetched.response.body,
      { certId: target.certId, issuerSpki: target.issuerSpki, certNotAfter: target.certNotAfter },
      deps.now(),
    );
  } catch (err) {
    if (isOcspError(err)) {
      observe(ocspErrorOutcome(err.code));
      throw StapleJobError.fromOcsp(err, responder);
    }
    throw err;
  }

  if (staple.status === 'unknown') {
    observe('unknown_status');
    // The responder does not know this certificate (yet): nothing to staple, keep what we have.
    throw new StapleJobError('status-unknown', `${responder} answered "unknown" for ${target.subject}`, {
      retryable: false,
      responder,
    });
  }
  observe('ok');

  // Revocations are counted once per certificate: only when the stored staple was not revoked yet.
  const revokedBefore =
    staple.status === 'revoked' && deps.observer !== undefined
      ? (await deps.store.states([target.fingerprint])).get(target.fingerprint)?.status === 'revoked'
      : undefined;
  const outcome = await deps.store.write(
    {
      fingerprint: target.fingerprint,
      staple,
      responder,
      names: target.names,
      mustStaple: target.mustStaple,
      certNotAfter: target.certNotAfter,
      fetchedAt: new Date(deps.now()),
    },
    deps.now(),
  );
  if (staple.status === 'revoked') {
    if (outcome.written && revokedBefore === false) observer.revocationSeen();
    deps.log.error(
      { fingerprint: target.fingerprint, names: target.names, revocationTime: staple.revocationTime, reason: staple.revocationReason },
      `certificate REVOKED by its CA: ${target.names.join(', ') || target.subject}`,
    );
  }
  if (outcome.written) return { outcome: 'stored', status: staple.status, responder };
  return { outcome: 'kept', status: staple.status, responder, reason: outcome.reason };
}

/**
 * Reports every exchange that failed (all of them, or those before the URL that answered). Only the
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

/** `host[:port]` of a responder URL (the per-host limit key and the metrics' `responder` label). */
export function hostOf(url: string): string {
  try {
    return new URL(url).host.toLowerCase();
  } catch {
    return '';
  }
}
