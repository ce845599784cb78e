/** Pairing a certificate with its issuer (RFC 5280 6.1: name chaining plus signature). */
import { X509Certificate } from 'node:crypto';
import { PublicKeyCache } from './keys.js';
import type { ParsedCertificate } from './types.js';

/** Issuers are few; their KeyObjects are reused across every leaf they signed. */
const issuerKeys = new PublicKeyCache(256);

/**
 * True when `issuer` issued `cert`: the issuer's subject Name DER equals the certificate's issuer
 * Name DER, the key identifiers agree when both are present (AKI keyIdentifier = issuer SKI), and
 * the certificate's signature verifies under the issuer's public key.
 */
export function isIssuedBy(cert: ParsedCertificate, issuer: ParsedCertificate): boolean {
  if (!cert.issuerNameDer.equals(issuer.subjectNameDer)) return false;
  if (cert.authorityKeyId !== undefined && issuer.subjectKeyId !== undefined && cert.authorityKeyId !== issuer.subjectKeyId) {
    return false;
  }
  try {
    return new X509Certificate(cert.der).verify(issuerKeys.get(issuer.spkiDer).key);
  } catch {
    return false; // an unsupported key or signature algorithm cannot prove issuance
  }
}
