/**
 * The fetch job for a certificate the relay was asked about and holds no staple for. Built only from
 * what the scanners and workers stored (CertID index and meta), never from the request beyond its
 * CertID, which the index has just confirmed names this certificate. Pure.
 */
import { encodeOcspRequest, type CertId, type StapleTarget } from '@staplewarm/ocsp';
import type { IndexedCertificate, IndexedIssuer } from '@staplewarm/store';

const HTTP_URL = /^https?:\/\//i;

/**
 * The StapleTarget a worker needs, or a reason why none can be built:
 * - `no-meta`: the certificate was indexed but never attempted. The scanner that indexed it queued
 *   its first fetch in the same step, so a second job would only duplicate it.
 * - `no-url`: neither meta nor the issuer names an http(s) OCSP URL.
 * The URLs: the one that answered (or failed) last for this certificate, then the issuer's.
 */
export function missTarget(
  cert: IndexedCertificate,
  issuer: IndexedIssuer,
  certId: CertId,
): { ok: true; target: StapleTarget } | { ok: false; reason: 'no-meta' | 'no-url' } {
  const { meta } = cert;
  if (meta === null || meta.certNotAfter === undefined) return { ok: false, reason: 'no-meta' };
  const ocspUrls = [...new Set([meta.responder, ...issuer.ocspUrls])].filter(
    (url): url is string => url !== undefined && HTTP_URL.test(url),
  );
  if (ocspUrls.length === 0) return { ok: false, reason: 'no-url' };
  return {
    ok: true,
    target: {
      fingerprint: cert.fingerprint,
      names: meta.names,
      mustStaple: meta.mustStaple,
      certNotAfter: meta.certNotAfter,
      ocspUrls,
      certId,
      request: encodeOcspRequest(certId).toString('base64'),
      issuerSpki: issuer.spki,
      subject: meta.names[0] ?? cert.fingerprint,
    },
  };
}
