/** OCSP requests: RFC 5019 DER encoding and the GET URL form (RFC 6960 appendix A.1). */
import { CERT_ID_HASH_OIDS } from './cert-id.js';
import { TAG } from './der.js';
import { derTlv, oidContents } from './der-write.js';
import type { CertId } from './types.js';

/**
 * The DER OCSPRequest for one certificate, RFC 5019 profile: one Request, no requestorName,
 * no signature, no nonce, no extensions (so identical requests are cacheable by CDNs).
 * ```asn1
 * OCSPRequest ::= SEQUENCE { tbsRequest TBSRequest }
 * TBSRequest  ::= SEQUENCE { requestList SEQUENCE OF Request }
 * Request     ::= SEQUENCE { reqCert CertID }
 * CertID      ::= SEQUENCE { hashAlgorithm AlgorithmIdentifier, issuerNameHash OCTET STRING,
 *                            issuerKeyHash OCTET STRING, serialNumber INTEGER }
 * ```
 * The hash AlgorithmIdentifier carries NULL parameters, as OpenSSL writes it.
 */
export function encodeOcspRequest(certId: CertId): Buffer {
  const algorithm = derTlv(TAG.SEQUENCE, derTlv(TAG.OID, oidContents(CERT_ID_HASH_OIDS[certId.hashAlgorithm])), derTlv(TAG.NULL));
  const reqCert = derTlv(
    TAG.SEQUENCE,
    algorithm,
    derTlv(TAG.OCTET_STRING, hexBytes(certId.issuerNameHash, 'issuerNameHash')),
    derTlv(TAG.OCTET_STRING, hexBytes(certId.issuerKeyHash, 'issuerKeyHash')),
    // The serial's content octets exactly as the certificate encodes them.
    derTlv(TAG.INTEGER, hexBytes(certId.serialNumber, 'serialNumber')),
  );
  const request = derTlv(TAG.SEQUENCE, reqCert);
  const tbsRequest = derTlv(TAG.SEQUENCE, derTlv(TAG.SEQUENCE, request));
  return derTlv(TAG.SEQUENCE, tbsRequest);
}

/**
 * The GET form: `<responder URL>/<base64 of the DER, URL-escaped>` (RFC 6960 A.1, RFC 5019 5).
 * encodeURIComponent keeps `+`, `/` and `=` of the base64 from being read as URL syntax.
 * A responder URL that already ends with `/` does not get a second one.
 */
export function ocspGetUrl(responderUrl: string, requestDer: Buffer): string {
  const base = responderUrl.endsWith('/') ? responderUrl : `${responderUrl}/`;
  return `${base}${encodeURIComponent(requestDer.toString('base64'))}`;
}

function hexBytes(hex: string, field: string): Buffer {
  if (hex.length === 0 || hex.length % 2 !== 0 || !/^[0-9a-fA-F]+$/.test(hex)) {
    throw new TypeError(`CertId.${field} is not hex: ${JSON.stringify(hex)}`);
  }
  return Buffer.from(hex, 'hex');
}
