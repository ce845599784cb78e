/**
 * Delegated OCSP responders (RFC 6960 4.2.2.2): a certificate carried in the response, issued by the
 * CA that issued the certificate in question, with EKU id-kp-OCSPSigning. Each responder certificate
 * is parsed and checked once per issuer; only its validity window is re-checked per response.
 */
import { createHash } from 'node:crypto';
import { BoundedCache } from './bounded-cache.js';
import { parseCertificateDer } from './certificate.js';
import { isSignedBy } from './issuer.js';
import { type PublicKeyCache, type PublicKeyEntry } from './keys.js';
import type { ResponderId } from './response.js';
import type { CertId, ParsedCertificate } from './types.js';

/** A certificate found in a response's `certs`, parsed once. */
export interface ResponderCertificate {
  cert: ParsedCertificate;
  key: PublicKeyEntry;
  /** Issuer-dependent check results: issuer key + CertID issuer name hash -> problem, or null when authorised. */
  delegations: Map<string, string | null>;
}

/** Few issuers sign any one responder certificate; this only bounds a pathological case. */
const MAX_DELEGATIONS_PER_CERT = 16;

export class ResponderCertificates {
  readonly #certs: BoundedCache<string, ResponderCertificate | null>;
  readonly #keys: PublicKeyCache;

  constructor(keys: PublicKeyCache, maxEntries: number) {
    this.#keys = keys;
    this.#certs = new BoundedCache(maxEntries);
  }

  /** The parsed certificate, or null when it does not parse (cached either way). */
  get(der: Buffer): ResponderCertificate | null {
    return this.#certs.getOrCompute(der.toString('base64'), () => {
      try {
        const cert = parseCertificateDer(der);
        return { cert, key: this.#keys.get(cert.spkiDer), delegations: new Map() };
      } catch {
        return null;
      }
    });
  }

  /**
   * Why `responder` may not answer for certificates of `issuer` named by `certId`, or null when it may:
   * its signature verifies under the issuer key, its issuer name hashes to the CertID's issuerNameHash,
   * and it has EKU id-kp-OCSPSigning. Validity in time is the caller's check (it depends on `now`).
   */
  delegationProblem(responder: ResponderCertificate, issuer: PublicKeyEntry, certId: CertId): string | null {
    const key = `${issuer.spkiBase64}|${certId.hashAlgorithm}:${certId.issuerNameHash.toLowerCase()}`;
    const known = responder.delegations.get(key);
    if (known !== undefined) return known;
    const problem = checkDelegation(responder.cert, issuer, certId);
    if (responder.delegations.size >= MAX_DELEGATIONS_PER_CERT) responder.delegations.clear();
    responder.delegations.set(key, problem);
    return problem;
  }
}

/** Whether `responder` is the certificate the ResponderID names (RFC 6960 4.2.1). */
export function matchesResponderId(responder: ResponderCertificate, id: ResponderId): boolean {
  return 'byKey' in id ? id.byKey.equals(responder.key.keyHash) : id.byName.equals(responder.cert.subjectNameDer);
}

function checkDelegation(cert: ParsedCertificate, issuer: PublicKeyEntry, certId: CertId): string | null {
  const nameHash = createHash(certId.hashAlgorithm).update(cert.issuerNameDer).digest('hex');
  if (nameHash !== certId.issuerNameHash.toLowerCase()) return `responder certificate ${cert.subject} has another issuer name`;
  if (!isSignedBy(cert, issuer.key)) return `responder certificate ${cert.subject} is not signed by the issuer`;
  if (!cert.ocspSigning) return `responder certificate ${cert.subject} lacks EKU id-kp-OCSPSigning`;
  return null;
}
