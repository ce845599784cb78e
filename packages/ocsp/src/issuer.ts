/** Pairing a certificate with its issuer (RFC 5280 6.1: name chaining plus signature). */
import type { KeyObject } from 'node:crypto';
import { OcspError } from './errors.js';
import { PublicKeyCache } from './keys.js';
import { signatureSchemeOf, verifySignature } from './signature.js';
import type { ParsedCertificate } from './types.js';

/** Issuers are few; their KeyObjects are reused across every leaf they signed. */
const issuerKeys = new PublicKeyCache(256);

/**
 * True when `issuer` may have issued `cert` by their names and key identifiers alone (what
 * OpenSSL's X509_check_issued looks at): the issuer's subject Name DER equals the certificate's
 * issuer Name DER, and the key identifiers agree when both are present (AKI keyIdentifier = SKI).
 */
export function namesIssuer(cert: ParsedCertificate, issuer: ParsedCertificate): boolean {
  if (!cert.issuerNameDer.equals(issuer.subjectNameDer)) return false;
  return cert.authorityKeyId === undefined || issuer.subjectKeyId === undefined || cert.authorityKeyId === issuer.subjectKeyId;
}

/**
 * True when `issuer` issued `cert`: `namesIssuer`, and the certificate's signature verifies under
 * the issuer's public key.
 */
export function isIssuedBy(cert: ParsedCertificate, issuer: ParsedCertificate): boolean {
  if (!namesIssuer(cert, issuer)) return false;
  let key: KeyObject;
  try {
    key = issuerKeys.get(issuer.spkiDer).key;
  } catch {
    return false; // a key node:crypto cannot import cannot prove issuance
  }
  return isSignedBy(cert, key);
}

/**
 * Checks the certificate's signature from the parsed TBSCertificate (no second parse: a
 * node:crypto X509Certificate costs more than an RSA verification). False for a bad signature and
 * for an algorithm staplewarm does not support, which cannot prove issuance either.
 */
export function isSignedBy(cert: ParsedCertificate, key: KeyObject): boolean {
  const { tbsDer, signatureAlgorithm, signature } = cert.signed;
  try {
    return verifySignature(signatureSchemeOf(signatureAlgorithm), tbsDer, key, signature);
  } catch (err) {
    if (err instanceof OcspError) return false; // unsupported-algorithm
    throw err;
  }
}
