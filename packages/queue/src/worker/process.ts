import type { OcspClient, OcspHttpResponse } from '@staplewarm/fetch';
import { isOcspError, type OcspVerifier, type Staple } from '@staplewarm/ocsp';
import type { StapleStore } from '@staplewarm/store';
import { StapleJobError } from '../jobs/errors.js';
import type { StapleJobData, StapleJobResult, StapleLogger } from '../jobs/job.js';
import { ocspErrorOutcome, silentObserver, type AttemptOutcome, type StapleObserver } from './observer.js';

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
 * Verify, store: one certificate's answered response (fetched by failover.ts, through each host's
 * limiter). Throws StapleJobError for anything that is not a verified response; the store is only
 * ever written with verified responses, and its last-known-good script decides whether the new one
 * replaces the old.
 */
export async function processStaple(target: StapleJobData, response: OcspHttpResponse, deps: StapleDeps): Promise<StapleJobResult> {
  const observer = deps.observer ?? silentObserver;
  const responder = response.url;
  const responderHost = hostOf(responder);
  const observe = (outcome: AttemptOutcome): void => {
    if (responderHost !== '') observer.fetchObserved(responderHost, outcome, response.elapsedMs / 1000);
  };

  let staple: Staple;
  try {
    staple = deps.verifier.verify(
      response.body,
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
  const outcome = await deps.store.write({
    fingerprint: target.fingerprint,
    staple,
    responder,
    names: target.names,
    mustStaple: target.mustStaple,
    certNotAfter: target.certNotAfter,
    fetchedAt: new Date(deps.now()),
  });
  if (staple.status === 'revoked') {
    if (outcome.written && revokedBefore === false) observer.revocationSeen();
    deps.log.error(
      { fingerprint: target.fingerprint, names: target.names, revocationTime: staple.revocationTime, reason: staple.revocationReason },
      `certificate REVOKED by its CA: ${target.names.join(', ') || target.subject}`,
    );
  }
  if (outcome.written) return { outcome: 'stored', status: staple.status, responder };
  if (outcome.reason === 'expired') {
    // Valid by this worker's clock, expired by Redis' (which decides): nothing was stored, so the
    // certificate has no new staple. Usually this worker's clock is behind Redis'.
    throw new StapleJobError(
      'expired-in-redis',
      `${responder}: the response's validity ends before Redis' clock (${staple.expiresAt.toISOString()}); nothing stored: check this worker's clock against Redis'`,
      { retryable: true, responder },
    );
  }
  return { outcome: 'kept', status: staple.status, responder, reason: outcome.reason };
}

/** `host[:port]` of a responder URL (the per-host limit key and the metrics' `responder` label). */
export function hostOf(url: string): string {
  try {
    return new URL(url).host.toLowerCase();
  } catch {
    return '';
  }
}
