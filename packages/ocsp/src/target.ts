/** StapleTarget: everything a worker needs to fetch and verify one certificate's staple. */
import { certIdFor } from './cert-id.js';
import { encodeOcspRequest } from './request.js';
import type { CertIdHash, ParsedCertificate, StapleTarget } from './types.js';

const HTTP_URL = /^https?:\/\//i;

/**
 * Builds the job payload for `leaf` issued by `issuer` (the caller has paired them, e.g. with
 * `isIssuedBy`). Only http(s) OCSP URLs are kept, in the certificate's order; the list may be
 * empty, which the scanner reports as "no OCSP URL".
 */
export function buildTarget(leaf: ParsedCertificate, issuer: ParsedCertificate, opts: { hash?: CertIdHash } = {}): StapleTarget {
  const certId = certIdFor(leaf, issuer, opts.hash ?? 'sha1');
  return {
    fingerprint: leaf.fingerprint,
    names: [...leaf.dnsNames],
    mustStaple: leaf.mustStaple,
    certNotAfter: leaf.notAfter.getTime(),
    ocspUrls: leaf.ocspUrls.filter((url) => HTTP_URL.test(url)),
    certId,
    request: encodeOcspRequest(certId).toString('base64'),
    issuerSpki: issuer.spkiDer.toString('base64'),
    subject: leaf.subject,
    issuerName: issuer.subjectNameDer.toString('base64'),
  };
}
