/** CertID encoding (RFC 6960 4.1.1), for pre-signing responses in the form clients send. */
import { nullValue, octetString, oid, sequence, unsignedInteger } from '../der/encode.js';
import { OID } from '../der/oids.js';
import type { IssuerHashes } from './load-pki.js';

export type CertIdHash = 'sha1' | 'sha256';

export const HASH_OIDS: Record<CertIdHash, string> = { sha1: OID.sha1, sha256: OID.sha256 };

/**
 * The CertID as openssl, pkijs and most clients encode it: AlgorithmIdentifier with NULL parameters.
 * A client omitting the NULL still gets an answer, signed on its first request.
 */
export function encodeCertId(hash: CertIdHash, issuer: IssuerHashes, serialHex: string): Buffer {
  return sequence(
    sequence(oid(HASH_OIDS[hash]), nullValue()),
    octetString(issuer.nameHash),
    octetString(issuer.keyHash),
    unsignedInteger(Buffer.from(serialHex, 'hex')),
  );
}
