/**
 * OCSPResponse (RFC 6960 4.2.1) decoding: one pass over the DER, reading only what verification and
 * display need. Nothing here checks signatures or times: see verify.ts.
 */
import { BoundedCache } from './bounded-cache.js';
import { readExtensionFields } from './certificate-extensions.js';
import {
  type AlgorithmIdentifier,
  DerError,
  TAG,
  type Tlv,
  children,
  contents,
  contextTag,
  encoding,
  expectEnd,
  expectTag,
  fields,
  readAlgorithmIdentifier,
  readBitStringBytes,
  readInteger,
  readNull,
  readOid,
  readRoot,
  readSmallInt,
  readTime,
} from './der.js';
import { OcspError } from './errors.js';
import { OID } from './oids.js';
import type { CertStatus, OcspResponseStatus, RevocationReason } from './types.js';
import { readExtensions, readName, readX509 } from './x509.js';

/**
 * Certificates in `certs` that parsed, by their bytes: a CA's responses all carry the same
 * responder certificate, which is parsed once (a full parse costs about as much as the response).
 * A certificate that does not parse throws, so only successes are kept.
 */
const checkedCertificates = new BoundedCache<string, unknown>(256);

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
 * The whole response is checked, not only the fields read: the bytes are stapled as they are, and
 * a TLS client's parser (OpenSSL, Go) refuses a response with any part of it malformed.
 */
function readResponse(der: Buffer): OcspResponseFields {
  const root = expectTag(readRoot(der), TAG.SEQUENCE, 'OCSPResponse');
  const [statusTlv, bytesTlv] = fields(der, root, 2, 'OCSPResponse');
  const statusCode = readSmallInt(der, expectTag(statusTlv, TAG.ENUMERATED, 'responseStatus'));
  const responseStatus = RESPONSE_STATUS[statusCode];
  if (responseStatus === undefined) throw new DerError('unknown-value', `unknown responseStatus ${statusCode}`);
  if (responseStatus !== 'successful' && !bytesTlv) return { responseStatus };

  const [responseBytes] = fields(der, expectTag(bytesTlv, contextTag(0, true), 'responseBytes'), 1, 'responseBytes');
  const [typeTlv, octets] = fields(der, expectTag(responseBytes, TAG.SEQUENCE, 'ResponseBytes'), 2, 'ResponseBytes');
  const responseType = readOid(der, expectTag(typeTlv, TAG.OID, 'responseType'));
  const inner = expectTag(octets, TAG.OCTET_STRING, 'response');
  if (responseStatus !== 'successful') return { responseStatus };
  if (responseType !== OID.pkixOcspBasic) throw new DerError('unsupported', `responseType ${responseType} is not id-pkix-ocsp-basic`);
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
 * Each certificate in `certs` must parse as one (responder.ts reads the one that signed).
 */
function readBasic(der: Buffer, octets: Tlv): BasicResponseFields {
  const [basicTlv] = fields(der, octets, 1, 'response');
  const basic = expectTag(basicTlv, TAG.SEQUENCE, 'BasicOCSPResponse');
  const [tbsTlv, algTlv, sigTlv, certsTlv] = fields(der, basic, 4, 'BasicOCSPResponse');
  const tbs = expectTag(tbsTlv, TAG.SEQUENCE, 'tbsResponseData');

  const parts = children(der, tbs);
  let at = 0;
  if (parts[0]?.tag === contextTag(0, true)) {
    const [version] = fields(der, parts[0], 1, 'version');
    readInteger(der, expectTag(version, TAG.INTEGER, 'version'));
    at = 1;
  }
  const responderId = readResponderId(der, parts[at++]);
  const producedAt = readTime(der, expectTag(parts[at++], TAG.GENERALIZED_TIME, 'producedAt'));
  const responsesTlv = expectTag(parts[at++], TAG.SEQUENCE, 'responses');
  const responses = children(der, responsesTlv).map((single) => readSingle(der, single));
  if (parts[at]?.tag === contextTag(1, true)) readExtensions(der, parts[at++]!);
  expectEnd(parts[at], 'tbsResponseData');

  const signatureAlgorithm = readAlgorithmIdentifier(der, algTlv, 'signatureAlgorithm');
  const signature = readBitStringBytes(der, expectTag(sigTlv, TAG.BIT_STRING, 'signature'));

  const certs: Buffer[] = [];
  if (certsTlv) {
    const [list] = fields(der, expectTag(certsTlv, contextTag(0, true), 'certs'), 1, 'certs');
    for (const cert of children(der, expectTag(list, TAG.SEQUENCE, 'certs'))) {
      const certDer = encoding(der, expectTag(cert, TAG.SEQUENCE, 'Certificate'));
      checkedCertificates.getOrCompute(certDer.toString('latin1'), () => readExtensionFields(readX509(certDer).extensions));
      certs.push(certDer);
    }
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
    const [name] = fields(der, tlv, 1, 'responderID byName');
    readName(der, expectTag(name, TAG.SEQUENCE, 'responderID byName'), false);
    return { byName: encoding(der, name!) };
  }
  if (tlv?.tag === contextTag(2, true)) {
    const [keyHash] = fields(der, tlv, 1, 'responderID byKey');
    return { byKey: contents(der, expectTag(keyHash, TAG.OCTET_STRING, 'responderID byKey')) };
  }
  if (!tlv) throw new DerError('missing', 'responderID: missing');
  throw new DerError('unexpected-tag', 'responderID: neither byName nor byKey');
}

/**
 * ```asn1
 * SingleResponse ::= SEQUENCE { certID CertID, certStatus CertStatus, thisUpdate GeneralizedTime,
 *   nextUpdate [0] EXPLICIT GeneralizedTime OPTIONAL, singleExtensions [1] EXPLICIT Extensions OPTIONAL }
 * CertStatus ::= CHOICE { good [0] IMPLICIT NULL, revoked [1] IMPLICIT RevokedInfo, unknown [2] IMPLICIT UnknownInfo }
 * RevokedInfo ::= SEQUENCE { revocationTime GeneralizedTime, revocationReason [0] EXPLICIT CRLReason OPTIONAL }
 * UnknownInfo ::= NULL
 * ```
 */
function readSingle(der: Buffer, single: Tlv): SingleResponseFields {
  const parts = fields(der, expectTag(single, TAG.SEQUENCE, 'SingleResponse'), 5, 'SingleResponse');
  const [certIdTlv, statusTlv, thisUpdateTlv] = parts;
  const out: SingleResponseFields = {
    certId: readCertId(der, expectTag(certIdTlv, TAG.SEQUENCE, 'certID')),
    status: 'unknown',
    thisUpdate: new Date(0),
  };
  if (!statusTlv) throw new DerError('missing', 'certStatus: missing');
  if (statusTlv.tag === contextTag(0, false)) {
    readNull(statusTlv, 'certStatus good');
    out.status = 'good';
  } else if (statusTlv.tag === contextTag(1, true)) {
    out.status = 'revoked';
    const [timeTlv, reasonTlv] = fields(der, statusTlv, 2, 'RevokedInfo');
    out.revocationTime = readTime(der, expectTag(timeTlv, TAG.GENERALIZED_TIME, 'revocationTime'));
    if (reasonTlv) {
      const [enumerated] = fields(der, expectTag(reasonTlv, contextTag(0, true), 'revocationReason'), 1, 'revocationReason');
      const reason = REVOCATION_REASONS[readSmallInt(der, expectTag(enumerated, TAG.ENUMERATED, 'CRLReason'))];
      if (reason === undefined) throw new DerError('unknown-value', 'unknown CRLReason');
      out.revocationReason = reason;
    }
  } else if (statusTlv.tag === contextTag(2, false)) {
    readNull(statusTlv, 'certStatus unknown');
  } else {
    throw new DerError('unexpected-tag', `certStatus: unexpected tag 0x${statusTlv.tag.toString(16)}`);
  }
  out.thisUpdate = readTime(der, expectTag(thisUpdateTlv, TAG.GENERALIZED_TIME, 'thisUpdate'));
  let at = 3;
  if (parts[at]?.tag === contextTag(0, true)) {
    const [time] = fields(der, parts[at++]!, 1, 'nextUpdate');
    out.nextUpdate = readTime(der, expectTag(time, TAG.GENERALIZED_TIME, 'nextUpdate'));
  }
  if (parts[at]?.tag === contextTag(1, true)) readExtensions(der, parts[at++]!);
  expectEnd(parts[at], 'SingleResponse');
  return out;
}

/** CertID ::= SEQUENCE { hashAlgorithm AlgorithmIdentifier, issuerNameHash, issuerKeyHash, serialNumber } */
function readCertId(der: Buffer, tlv: Tlv): ResponseCertId {
  const [algTlv, nameTlv, keyTlv, serialTlv] = fields(der, tlv, 4, 'CertID');
  return {
    hashAlgorithmOid: readAlgorithmIdentifier(der, algTlv, 'CertID.hashAlgorithm').oid,
    issuerNameHash: contents(der, expectTag(nameTlv, TAG.OCTET_STRING, 'issuerNameHash')).toString('hex'),
    issuerKeyHash: contents(der, expectTag(keyTlv, TAG.OCTET_STRING, 'issuerKeyHash')).toString('hex'),
    serialNumber: readInteger(der, expectTag(serialTlv, TAG.INTEGER, 'serialNumber')).toString('hex'),
  };
}
