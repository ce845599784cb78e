/**
 * OCSPRequest decoding (RFC 6960 4.1.1): what a responder (the relay) reads from a client's request.
 * The bytes come from anyone who can reach the relay, so the reader is strict and bounded: DER
 * only (definite lengths, see der.ts), one pass, no recursion beyond the fixed structure, and every
 * size checked before anything is copied.
 */
import { certIdHashOf } from './cert-id.js';
import { DerError, TAG, type Tlv, children, contents, contextTag, expectTag, readOid, readRoot, readSmallInt } from './der.js';
import { OcspRequestError } from './errors.js';
import { OID } from './oids.js';
import type { CertId, CertIdHash } from './types.js';

/** Requests larger than this are refused unread: an RFC 5019 request is about 80-120 bytes. */
export const MAX_OCSP_REQUEST_BYTES = 8_192;
/** A serial longer than this is no certificate's (RFC 5280 4.1.2.2 allows 20 octets; some CAs add a 0x00). */
const MAX_SERIAL_OCTETS = 32;
/** Digest sizes of the CertID hashes we index; other algorithms are read but their sizes are not checked. */
const DIGEST_OCTETS: Readonly<Record<CertIdHash, number>> = { sha1: 20, sha256: 32 };

/** One Request's CertID as sent: the hash may be one staplewarm never uses (then `hashAlgorithm` is undefined). */
export interface RequestedCertId {
  /** `sha1` or `sha256`; undefined for any other hash algorithm. */
  hashAlgorithm: CertIdHash | undefined;
  /** The AlgorithmIdentifier's OID, dotted. */
  hashAlgorithmOid: string;
  /** Lowercase hex. */
  issuerNameHash: string;
  issuerKeyHash: string;
  /** INTEGER content octets, lowercase hex, exactly as sent. */
  serialNumber: string;
}

export interface OcspRequestFields {
  /** Every Request's CertID, in order (at least one). RFC 5019 clients send exactly one. */
  certIds: RequestedCertId[];
  /** The request extensions carry a nonce (id-pkix-ocsp-nonce). RFC 5019 responders ignore it. */
  hasNonce: boolean;
  /** An optionalSignature is present (not checked: nothing here depends on who asks). */
  signed: boolean;
}

/**
 * Decodes a DER OCSPRequest.
 * ```asn1
 * OCSPRequest ::= SEQUENCE { tbsRequest TBSRequest, optionalSignature [0] EXPLICIT Signature OPTIONAL }
 * TBSRequest  ::= SEQUENCE { version [0] EXPLICIT Version DEFAULT v1,
 *                            requestorName [1] EXPLICIT GeneralName OPTIONAL,
 *                            requestList SEQUENCE OF Request,
 *                            requestExtensions [2] EXPLICIT Extensions OPTIONAL }
 * Request     ::= SEQUENCE { reqCert CertID, singleRequestExtensions [0] EXPLICIT Extensions OPTIONAL }
 * ```
 * @throws OcspRequestError `request-too-large` over MAX_OCSP_REQUEST_BYTES; `malformed-request` for
 *   anything else: not DER, trailing bytes, an empty request list, a version other than v1, CertID
 *   hashes of the wrong length, a serial of 0 or more than 32 octets.
 */
export function parseOcspRequest(der: Buffer): OcspRequestFields {
  if (der.length > MAX_OCSP_REQUEST_BYTES) {
    throw new OcspRequestError('request-too-large', `OCSP request of ${der.length} bytes (at most ${MAX_OCSP_REQUEST_BYTES})`);
  }
  try {
    return readRequest(der);
  } catch (err) {
    if (err instanceof DerError) {
      throw new OcspRequestError('malformed-request', `OCSP request does not parse: ${err.message}`, { cause: err });
    }
    throw err;
  }
}

/** The CertID as staplewarm's CertId, or undefined when its hash is not sha1 or sha256. */
export function requestedCertIdToCertId(requested: RequestedCertId): CertId | undefined {
  if (requested.hashAlgorithm === undefined) return undefined;
  const { hashAlgorithm, issuerNameHash, issuerKeyHash, serialNumber } = requested;
  return { hashAlgorithm, issuerNameHash, issuerKeyHash, serialNumber };
}

function readRequest(der: Buffer): OcspRequestFields {
  const root = expectTag(readRoot(der), TAG.SEQUENCE, 'OCSPRequest');
  const [tbsTlv, signatureTlv, extra] = children(der, root);
  if (extra) throw new DerError('OCSPRequest: unexpected element after optionalSignature');
  if (signatureTlv) expectTag(signatureTlv, contextTag(0, true), 'optionalSignature');
  const tbs = children(der, expectTag(tbsTlv, TAG.SEQUENCE, 'tbsRequest'));

  let at = 0;
  if (tbs[at]?.tag === contextTag(0, true)) {
    const version = expectTag(children(der, tbs[at] as Tlv)[0], TAG.INTEGER, 'version');
    if (readSmallInt(der, version) !== 0) throw new DerError('version: only v1 (0) exists');
    at++;
  }
  if (tbs[at]?.tag === contextTag(1, true)) at++; // requestorName: who asks does not change the answer
  const list = expectTag(tbs[at++], TAG.SEQUENCE, 'requestList');
  let hasNonce = false;
  if (tbs[at]?.tag === contextTag(2, true)) {
    hasNonce = extensionsHave(der, tbs[at] as Tlv, OID.ocspNonce);
    at++;
  }
  if (at !== tbs.length) throw new DerError('tbsRequest: unexpected element');

  const requests = children(der, list);
  if (requests.length === 0) throw new DerError('requestList is empty');
  const certIds = requests.map((request) => {
    const [reqCert, singleExtensions, more] = children(der, expectTag(request, TAG.SEQUENCE, 'Request'));
    if (singleExtensions) expectTag(singleExtensions, contextTag(0, true), 'singleRequestExtensions');
    if (more) throw new DerError('Request: unexpected element');
    return readCertId(der, expectTag(reqCert, TAG.SEQUENCE, 'reqCert'));
  });
  return { certIds, hasNonce, signed: signatureTlv !== undefined };
}

/** CertID ::= SEQUENCE { hashAlgorithm AlgorithmIdentifier, issuerNameHash OCTET STRING, issuerKeyHash OCTET STRING, serialNumber INTEGER } */
function readCertId(der: Buffer, tlv: Tlv): RequestedCertId {
  const [algTlv, nameTlv, keyTlv, serialTlv, extra] = children(der, tlv);
  if (extra) throw new DerError('CertID: unexpected element');
  const [oidTlv] = children(der, expectTag(algTlv, TAG.SEQUENCE, 'CertID.hashAlgorithm'));
  const hashAlgorithmOid = readOid(der, expectTag(oidTlv, TAG.OID, 'CertID.hashAlgorithm.algorithm'));
  const hashAlgorithm = certIdHashOf(hashAlgorithmOid);
  const issuerNameHash = contents(der, expectTag(nameTlv, TAG.OCTET_STRING, 'issuerNameHash'));
  const issuerKeyHash = contents(der, expectTag(keyTlv, TAG.OCTET_STRING, 'issuerKeyHash'));
  const serial = contents(der, expectTag(serialTlv, TAG.INTEGER, 'serialNumber'));
  if (hashAlgorithm !== undefined) {
    const octets = DIGEST_OCTETS[hashAlgorithm];
    if (issuerNameHash.length !== octets || issuerKeyHash.length !== octets) {
      throw new DerError(`CertID: ${hashAlgorithm} hashes must be ${octets} octets`);
    }
  }
  if (serial.length === 0 || serial.length > MAX_SERIAL_OCTETS) throw new DerError(`serialNumber of ${serial.length} octets`);
  return {
    hashAlgorithm,
    hashAlgorithmOid,
    issuerNameHash: issuerNameHash.toString('hex'),
    issuerKeyHash: issuerKeyHash.toString('hex'),
    serialNumber: serial.toString('hex'),
  };
}

/** Extensions ::= SEQUENCE OF Extension; Extension ::= SEQUENCE { extnID OID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING } */
function extensionsHave(der: Buffer, explicit: Tlv, oid: string): boolean {
  const list = expectTag(children(der, explicit)[0], TAG.SEQUENCE, 'Extensions');
  return children(der, list).some((extension) => {
    const [id] = children(der, expectTag(extension, TAG.SEQUENCE, 'Extension'));
    return readOid(der, expectTag(id, TAG.OID, 'extnID')) === oid;
  });
}
