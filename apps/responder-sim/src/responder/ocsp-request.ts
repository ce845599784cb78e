/**
 * Reads the first CertID of a DER OCSPRequest (RFC 6960 4.1.1) by walking TLVs, no object tree:
 * ```asn1
 * OCSPRequest ::= SEQUENCE { tbsRequest TBSRequest, optionalSignature [0] EXPLICIT Signature OPTIONAL }
 * TBSRequest  ::= SEQUENCE { version [0] EXPLICIT DEFAULT v1, requestorName [1] EXPLICIT OPTIONAL,
 *                            requestList SEQUENCE OF Request, requestExtensions [2] EXPLICIT OPTIONAL }
 * Request     ::= SEQUENCE { reqCert CertID, singleRequestExtensions [0] EXPLICIT OPTIONAL }
 * CertID      ::= SEQUENCE { hashAlgorithm AlgorithmIdentifier, issuerNameHash OCTET STRING,
 *                            issuerKeyHash OCTET STRING, serialNumber CertificateSerialNumber }
 * ```
 * Only the first Request is read, as CDN responders do; extensions (a nonce) are ignored (RFC 5019).
 */
import { contentOf, oidToString, readChildren, readTlv, whole } from '../der/decode.js';
import { Tag } from '../der/encode.js';

export interface RequestedCertId {
  /** The CertID exactly as requested: echoed verbatim in the response so clients' comparisons match. */
  der: Buffer;
  hashAlgorithm: string;
  issuerNameHash: Buffer;
  issuerKeyHash: Buffer;
  /** Lowercase hex of the serial INTEGER's content octets. */
  serial: string;
}

/** The first CertID, or undefined when `der` is not exactly one well-formed OCSPRequest. */
export function readFirstCertId(der: Buffer): RequestedCertId | undefined {
  const request = readTlv(der, 0);
  if (request?.tag !== Tag.SEQUENCE || request.end !== der.length) return undefined;
  const tbsRequest = readTlv(der, request.contentStart, request.end);
  if (tbsRequest?.tag !== Tag.SEQUENCE) return undefined;
  const requestList = readChildren(der, tbsRequest)?.find((child) => child.tag === Tag.SEQUENCE);
  const firstRequest = requestList && readTlv(der, requestList.contentStart, requestList.end);
  if (firstRequest?.tag !== Tag.SEQUENCE) return undefined;
  const certId = readTlv(der, firstRequest.contentStart, firstRequest.end);
  if (certId?.tag !== Tag.SEQUENCE) return undefined;
  const [algorithm, nameHash, keyHash, serial] = readChildren(der, certId) ?? [];
  if (
    algorithm?.tag !== Tag.SEQUENCE ||
    nameHash?.tag !== Tag.OCTET_STRING ||
    keyHash?.tag !== Tag.OCTET_STRING ||
    serial?.tag !== Tag.INTEGER
  )
    return undefined;
  const algorithmOid = readTlv(der, algorithm.contentStart, algorithm.end);
  if (algorithmOid?.tag !== Tag.OID) return undefined;
  return {
    der: whole(der, certId),
    hashAlgorithm: oidToString(contentOf(der, algorithmOid)),
    issuerNameHash: contentOf(der, nameHash),
    issuerKeyHash: contentOf(der, keyHash),
    serial: contentOf(der, serial).toString('hex'),
  };
}
