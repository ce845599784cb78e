/**
 * OCSPResponse (RFC 6960 4.2.1) decoding: one pass over the DER, reading only what verification and
 * display need. Nothing here checks signatures or times: see verify.ts.
 */
import {
  type AlgorithmIdentifier,
  DerError,
  TAG,
  type Tlv,
  children,
  contents,
  contextTag,
  encoding,
  expectTag,
  readBitStringBytes,
  readAlgorithmIdentifier,
  readOid,
  readRoot,
  readSmallInt,
  readTime,
} from './der.js';
import { OcspError } from './errors.js';
import { OID } from './oids.js';
import type { CertStatus, OcspResponseStatus, RevocationReason } from './types.js';

/** RFC 6960 OCSPResponseStatus; 4 is not used. */
const RESPONSE_STATUS: readonly ('successful' | OcspResponseStatus | undefined)[] = [
  'successful',
  'malformedRequest',
  'internalError',
  'tryLater',
  undefined,
  'sigRequired',
  'unauthorized',
];

/** RFC 5280 5.3.1 CRLReason; 7 is not used. */
const REVOCATION_REASONS: readonly (RevocationReason | undefined)[] = [
  'unspecified',
  'keyCompromise',
  'cACompromise',
  'affiliationChanged',
  'superseded',
  'cessationOfOperation',
  'certificateHold',
  undefined,
  'removeFromCRL',
  'privilegeWithdrawn',
  'aACompromise',
];

/** The CertID of a SingleResponse as sent: the hash algorithm is an OID (it may be one we never ask for). */
export interface ResponseCertId {
  hashAlgorithmOid: string;
  /** Lowercase hex. */
  issuerNameHash: string;
  issuerKeyHash: string;
  /** INTEGER content octets, lowercase hex. */
  serialNumber: string;
}

export interface SingleResponseFields {
  certId: ResponseCertId;
  status: CertStatus;
  revocationTime?: Date;
  revocationReason?: RevocationReason;
  thisUpdate: Date;
  nextUpdate?: Date;
}

/** ResponderID ::= CHOICE { byName [1] Name, byKey [2] KeyHash (SHA-1 of the key bits) } */
export type ResponderId = { byName: Buffer } | { byKey: Buffer };

export interface BasicResponseFields {
  /** The exact tbsResponseData encoding: the signed bytes. */
  tbsResponseData: Buffer;
  responderId: ResponderId;
  producedAt: Date;
  responses: SingleResponseFields[];
  signatureAlgorithm: AlgorithmIdentifier;
  /** The signature BIT STRING value (no unused-bits octet). */
  signature: Buffer;
  /** DER of each certificate in `certs`, in order. */
  certs: Buffer[];
}

export type OcspResponseFields =
  { responseStatus: 'successful'; basic: BasicResponseFields } | { responseStatus: OcspResponseStatus; basic?: undefined };

/**
 * Decodes an OCSPResponse without verifying it. The returned Buffers are views into `der`.
 * @throws OcspError `malformed` when the bytes are not a DER OCSPResponse with a basic response.
 */
export function readOcspResponse(der: Buffer): OcspResponseFields {
  try {
    return readResponse(der);
  } catch (err) {
    if (err instanceof DerError) throw new OcspError('malformed', `OCSP response does not parse: ${err.message}`, { cause: err });
    throw err;
  }
}

/**
 * ```asn1
 * OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED, responseBytes [0] EXPLICIT ResponseBytes OPTIONAL }
 * ResponseBytes ::= SEQUENCE { responseType OBJECT IDENTIFIER, response OCTET STRING }
 * ```
 */
function readResponse(der: Buffer): OcspResponseFields {
  const root = expectTag(readRoot(der), TAG.SEQUENCE, 'OCSPResponse');
  const [statusTlv, bytesTlv] = children(der, root);
  const statusCode = readSmallInt(der, expectTag(statusTlv, TAG.ENUMERATED, 'responseStatus'));
  const responseStatus = RESPONSE_STATUS[statusCode];
  if (responseStatus === undefined) throw new DerError(`unknown responseStatus ${statusCode}`);
  if (responseStatus !== 'successful') return { responseStatus };

  const explicit = expectTag(bytesTlv, contextTag(0, true), 'responseBytes');
  const responseBytes = expectTag(children(der, explicit)[0], TAG.SEQUENCE, 'ResponseBytes');
  const [typeTlv, octets] = children(der, responseBytes);
  const responseType = readOid(der, expectTag(typeTlv, TAG.OID, 'responseType'));
  if (responseType !== OID.pkixOcspBasic) throw new DerError(`responseType ${responseType} is not id-pkix-ocsp-basic`);
  const inner = expectTag(octets, TAG.OCTET_STRING, 'response');
  return { responseStatus, basic: readBasic(der, inner) };
}

/**
 * ```asn1
 * BasicOCSPResponse ::= SEQUENCE { tbsResponseData ResponseData, signatureAlgorithm AlgorithmIdentifier,
 *   signature BIT STRING, certs [0] EXPLICIT SEQUENCE OF Certificate OPTIONAL }
 * ResponseData ::= SEQUENCE { version [0] EXPLICIT Version DEFAULT v1, responderID ResponderID,
 *   producedAt GeneralizedTime, responses SEQUENCE OF SingleResponse,
 *   responseExtensions [1] EXPLICIT Extensions OPTIONAL }
 * ```
 */
function readBasic(der: Buffer, octets: Tlv): BasicResponseFields {
  const basic = expectTag(children(der, octets)[0], TAG.SEQUENCE, 'BasicOCSPResponse');
  if (basic.end !== octets.end) throw new DerError('trailing bytes after BasicOCSPResponse');
  const [tbsTlv, algTlv, sigTlv, certsTlv] = children(der, basic);
  const tbs = expectTag(tbsTlv, TAG.SEQUENCE, 'tbsResponseData');

  const fields = children(der, tbs);
  let at = fields[0]?.tag === contextTag(0, true) ? 1 : 0;
  const responderId = readResponderId(der, fields[at++]);
  const producedAt = readTime(der, expectTag(fields[at++], TAG.GENERALIZED_TIME, 'producedAt'));
  const responsesTlv = expectTag(fields[at], TAG.SEQUENCE, 'responses');
  const responses = children(der, responsesTlv).map((single) => readSingle(der, single));

  const signatureAlgorithm = readAlgorithmIdentifier(der, algTlv, 'signatureAlgorithm');
  const signature = readBitStringBytes(der, expectTag(sigTlv, TAG.BIT_STRING, 'signature'));

  const certs: Buffer[] = [];
  if (certsTlv) {
    const list = expectTag(children(der, expectTag(certsTlv, contextTag(0, true), 'certs'))[0], TAG.SEQUENCE, 'certs');
    for (const cert of children(der, list)) certs.push(encoding(der, expectTag(cert, TAG.SEQUENCE, 'Certificate')));
  }
  return {
    tbsResponseData: encoding(der, tbs),
    responderId,
    producedAt,
    responses,
    signatureAlgorithm,
    signature,
    certs,
  };
}

function readResponderId(der: Buffer, tlv: Tlv | undefined): ResponderId {
  if (tlv?.tag === contextTag(1, true)) {
    return { byName: encoding(der, expectTag(children(der, tlv)[0], TAG.SEQUENCE, 'responderID byName')) };
  }
  if (tlv?.tag === contextTag(2, true)) {
    return { byKey: contents(der, expectTag(children(der, tlv)[0], TAG.OCTET_STRING, 'responderID byKey')) };
  }
  throw new DerError('responderID: neither byName nor byKey');
}

/**
 * ```asn1
 * SingleResponse ::= SEQUENCE { certID CertID, certStatus CertStatus, thisUpdate GeneralizedTime,
 *   nextUpdate [0] EXPLICIT GeneralizedTime OPTIONAL, singleExtensions [1] EXPLICIT Extensions OPTIONAL }
 * CertStatus ::= CHOICE { good [0] IMPLICIT NULL, revoked [1] IMPLICIT RevokedInfo, unknown [2] IMPLICIT UnknownInfo }
 * RevokedInfo ::= SEQUENCE { revocationTime GeneralizedTime, revocationReason [0] EXPLICIT CRLReason OPTIONAL }
 * ```
 */
function readSingle(der: Buffer, single: Tlv): SingleResponseFields {
  const [certIdTlv, statusTlv, thisUpdateTlv, nextTlv] = children(der, expectTag(single, TAG.SEQUENCE, 'SingleResponse'));
  const out: SingleResponseFields = {
    certId: readCertId(der, expectTag(certIdTlv, TAG.SEQUENCE, 'certID')),
    status: 'unknown',
    thisUpdate: readTime(der, expectTag(thisUpdateTlv, TAG.GENERALIZED_TIME, 'thisUpdate')),
  };
  if (!statusTlv) throw new DerError('certStatus: missing');
  if (statusTlv.tag === contextTag(0, false)) {
    out.status = 'good';
  } else if (statusTlv.tag === contextTag(1, true)) {
    out.status = 'revoked';
    const [timeTlv, reasonTlv] = children(der, statusTlv);
    out.revocationTime = readTime(der, expectTag(timeTlv, TAG.GENERALIZED_TIME, 'revocationTime'));
    if (reasonTlv) {
      const enumerated = expectTag(
        children(der, expectTag(reasonTlv, contextTag(0, true), 'revocationReason'))[0],
        TAG.ENUMERATED,
        'CRLReason',
      );
      const reason = REVOCATION_REASONS[readSmallInt(der, enumerated)];
      if (reason === undefined) throw new DerError('unknown CRLReason');
      out.revocationReason = reason;
    }
  } else if (statusTlv.tag !== contextTag(2, false)) {
    throw new DerError(`certStatus: unexpected tag 0x${statusTlv.tag.toString(16)}`);
  }
  if (nextTlv?.tag === contextTag(0, true)) {
    out.nextUpdate = readTime(der, expectTag(children(der, nextTlv)[0], TAG.GENERALIZED_TIME, 'nextUpdate'));
  }
  return out;
}

/** CertID ::= SEQUENCE { hashAlgorithm AlgorithmIdentifier, issuerNameHash, issuerKeyHash, serialNumber } */
function readCertId(der: Buffer, tlv: Tlv): ResponseCertId {
  const [algTlv, nameTlv, keyTlv, serialTlv] = children(der, tlv);
  const algorithm = children(der, expectTag(algTlv, TAG.SEQUENCE, 'CertID.hashAlgorithm'));
  return {
    hashAlgorithmOid: readOid(der, expectTag(algorithm[0], TAG.OID, 'CertID.hashAlgorithm.algorithm')),
    issuerNameHash: contents(der, expectTag(nameTlv, TAG.OCTET_STRING, 'issuerNameHash')).toString('hex'),
    issuerKeyHash: contents(der, expectTag(keyTlv, TAG.OCTET_STRING, 'issuerKeyHash')).toString('hex'),
    serialNumber: contents(der, expectTag(serialTlv, TAG.INTEGER, 'serialNumber')).toString('hex'),
  };
}
