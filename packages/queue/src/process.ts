import type { OcspClient } from '@staplewarm/fetch';
import { isOcspError, type OcspVerifier, type Staple } from '@staplewarm/ocsp';
import type { StapleStore } from '@staplewarm/store';
import { StapleJobError } from './errors.js';
import type { StapleJobData, StapleJobResult, StapleLogger } from './job.js';

/** What processing one certificate needs; passed in so tests and apps choose the real parts. */
export interface StapleDeps {
  client: OcspClient;
  verifier: OcspVerifier;
  store: StapleStore;
  /** The clock, epoch ms. */
  now: () => number;
  log: StapleLogger;
}

/**
 * Fetch, verify, store: one certificate, one attempt. Throws StapleJobError for anything that did not
 * end in a verified response; the store is only ever written with verified responses, and its
 * last-known-good script decides whether the new one replaces the old.
 */
export async function processStaple(target: StapleJobData, deps: StapleDeps): Promise<StapleJobResult> {
  const fetched = await deps.client.fetch({ urls: target.ocspUrls, der: Buffer.from(target.request, 'base64') });
  if (!fetched.ok) throw StapleJobError.fromFetch(fetched.error);
  const responder = fetched.response.url;

  let staple: Staple;
  try {
    staple = deps.verifier.verify(
      fetched.response.body,
      { certId: target.certId, issuerSpki: target.issuerSpki, certNotAfter: target.certNotAfter },
      deps.now(),
    );
  } catch (err) {
    if (isOcspError(err)) throw StapleJobError.fromOcsp(err, responder);
    throw err;
  }

  if (staple.status === 'unknown') {
    // The responder does not know this certificate (yet): nothing to staple, keep what we have.
    throw new StapleJobError('status-unknown', `${responder} answered "unknown" for ${target.subject}`, {
      retryable: false,
      responder,
    });
  }

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
    deps.log.error(
      { fingerprint: target.fingerprint, names: target.names, revocationTime: staple.revocationTime, reason: staple.revocationReason },
      `certificate REVOKED by its CA: ${target.names.join(', ') || target.subject}`,
    );
  }
  if (outcome.written) return { outcome: 'stored', status: staple.status, responder };
  return { outcome: 'kept', status: staple.status, responder, reason: outcome.reason };
}
