/** What a CertID says about its issuer, in both hashes staplewarm uses (RFC 6960 4.1.1). */
import { createHash } from 'node:crypto';
import { DerError } from './der.js';
import { OcspError } from './errors.js';
import { subjectPublicKeyBits } from './keys.js';
import type { CertIdHash } from './types.js';

/** The issuer half of a CertID: issuerNameHash and issuerKeyHash, lowercase hex. */
export interface IssuerHashes {
  issuerNameHash: string;
  issuerKeyHash: string;
}

/**
 * The issuer parts of every CertID naming a certificate of this issuer, for each hash (SHA-1 as
 * RFC 5019 and today's servers send, SHA-256 as RFC 9919 recommends): issuerNameHash hashes the
 * issuer's subject Name DER, issuerKeyHash the subjectPublicKey BIT STRING value of its SPKI.
 * @throws OcspError `malformed-certificate` when `issuerSpkiDer` is not a SubjectPublicKeyInfo.
 */
export function issuerHashes(issuerNameDer: Buffer, issuerSpkiDer: Buffer): Record<CertIdHash, IssuerHashes> {
  let keyBits: Buffer;
  try {
    keyBits = subjectPublicKeyBits(issuerSpkiDer);
  } catch (err) {
    if (err instanceof DerError) throw new OcspError('malformed-certificate', `issuer key is not a SubjectPublicKeyInfo: ${err.message}`);
    throw err;
  }
  const both = (hash: CertIdHash): IssuerHashes => ({
    issuerNameHash: createHash(hash).update(issuerNameDer).digest('hex'),
    issuerKeyHash: createHash(hash).update(keyBits).digest('hex'),
  });
  return { sha1: both('sha1'), sha256: both('sha256') };
}
