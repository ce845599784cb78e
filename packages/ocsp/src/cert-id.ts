/** CertID (RFC 6960 4.1.1): how a request and a response name one certificate. */
import { createHash } from 'node:crypto';
import { subjectPublicKeyBits } from './keys.js';
import { OID } from './oids.js';
import type { CertId, CertIdHash, ParsedCertificate } from './types.js';

/** The AlgorithmIdentifier OID of each CertID hash. */
export const CERT_ID_HASH_OIDS: Readonly<Record<CertIdHash, string>> = { sha1: OID.sha1, sha256: OID.sha256 };

/** The CertIdHash of a hash algorithm OID, or undefined for any other hash. */
export function certIdHashOf(oid: string): CertIdHash | undefined {
  if (oid === OID.sha1) return 'sha1';
  if (oid === OID.sha256) return 'sha256';
  return undefined;
}

/**
 * The CertID of `leaf`: issuerNameHash hashes the issuer's subject Name DER, issuerKeyHash hashes the
 * issuer's subjectPublicKey BIT STRING value (no tag, length or unused-bits octet), serialNumber is
 * the leaf's serial. `hash` is sha1 for the RFC 5019 profile, sha256 where a responder wants it.
 */
export function certIdFor(leaf: ParsedCertificate, issuer: ParsedCertificate, hash: CertIdHash = 'sha1'): CertId {
  return {
    hashAlgorithm: hash,
    issuerNameHash: createHash(hash).update(issuer.subjectNameDer).digest('hex'),
    issuerKeyHash: createHash(hash).update(subjectPublicKeyBits(issuer.spkiDer)).digest('hex'),
    serialNumber: leaf.serialNumber,
  };
}

/** Field-by-field equality (hex compared case-insensitively). */
export function certIdEquals(a: CertId, b: CertId): boolean {
  return (
    a.hashAlgorithm === b.hashAlgorithm &&
    a.issuerNameHash.toLowerCase() === b.issuerNameHash.toLowerCase() &&
    a.issuerKeyHash.toLowerCase() === b.issuerKeyHash.toLowerCase() &&
    a.serialNumber.toLowerCase() === b.serialNumber.toLowerCase()
  );
}
