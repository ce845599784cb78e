/**
 * OCSP response encoding (RFC 6960 4.2.1):
 * ```asn1
 * OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED, responseBytes [0] EXPLICIT ResponseBytes OPTIONAL }
 * ResponseBytes ::= SEQUENCE { responseType OBJECT IDENTIFIER, response OCTET STRING }
 * BasicOCSPResponse ::= SEQUENCE { tbsResponseData ResponseData, signatureAlgorithm AlgorithmIdentifier,
 *                                  signature BIT STRING, certs [0] EXPLICIT SEQUENCE OF Certificate OPTIONAL }
 * ResponseData ::= SEQUENCE { version [0] EXPLICIT DEFAULT v1, responderID ResponderID,
 *                             producedAt GeneralizedTime, responses SEQUENCE OF SingleResponse, ... }
 * SingleResponse ::= SEQUENCE { certID CertID, certStatus CertStatus, thisUpdate GeneralizedTime,
 *                               nextUpdate [0] EXPLICIT GeneralizedTime OPTIONAL, ... }
 * CertStatus ::= CHOICE { good [0] IMPLICIT NULL, revoked [1] IMPLICIT RevokedInfo, unknown [2] IMPLICIT NULL }
 * RevokedInfo ::= SEQUENCE { revocationTime GeneralizedTime, revocationReason [0] EXPLICIT CRLReason OPTIONAL }
 * ```
 */
import { bitString, enumerated, explicit, generalizedTime, octetString, oid, sequence, tlv } from '../der/encode.js';
import { OID } from '../der/oids.js';
import { signWith, type SigningKey } from '../pki/keys.js';

/** responseStatus values other than successful (0). */
export const ResponseStatus = { malformedRequest: 1, internalError: 2, tryLater: 3, unauthorized: 6 } as const;
export type UnsuccessfulStatus = keyof typeof ResponseStatus;

/** An OCSPResponse without responseBytes: `tryLater`, `unauthorized`... (constant bytes). */
export const statusOnlyResponse = (status: UnsuccessfulStatus): Buffer => sequence(enumerated(ResponseStatus[status]));

/** Who signs: its key, its ResponderID (byKey), and the certificates to embed (a delegated signer's). */
export interface ResponseSigner {
  key: SigningKey;
  certs: Buffer[];
}

export type CertificateStatus = { kind: 'good' } | { kind: 'revoked'; revokedAt: Date };

export interface SingleResponseFields {
  /** The requested CertID, verbatim. */
  certIdDer: Buffer;
  status: CertificateStatus;
  thisUpdate: Date;
  nextUpdate: Date;
  producedAt: Date;
}

const KEY_COMPROMISE = 1;

function certStatus(status: CertificateStatus): Buffer {
  switch (status.kind) {
    case 'good':
      return Buffer.from([0x80, 0x00]);
    case 'revoked':
      return tlv(0xa1, generalizedTime(status.revokedAt), explicit(0, enumerated(KEY_COMPROMISE)));
  }
}

/** A successful response for one certificate, signed by `signer`. */
export function signedResponse(fields: SingleResponseFields, signer: ResponseSigner): Buffer {
  const single = sequence(
    fields.certIdDer,
    certStatus(fields.status),
    generalizedTime(fields.thisUpdate),
    explicit(0, generalizedTime(fields.nextUpdate)),
  );
  const tbs = sequence(
    explicit(2, octetString(signer.key.keyId)), // ResponderID byKey [2] EXPLICIT KeyHash
    generalizedTime(fields.producedAt),
    sequence(single),
  );
  const basicParts = [tbs, signer.key.signatureAlgorithm, bitString(signWith(signer.key, tbs))];
  if (signer.certs.length > 0) basicParts.push(explicit(0, sequence(...signer.certs)));
  const basic = sequence(...basicParts);
  return sequence(enumerated(0), explicit(0, sequence(oid(OID.ocspBasic), octetString(basic))));
}
