/** A human-facing view of an OCSP response, without verification (for `staplewarm get`). */
import { certIdHashOf } from './cert-id.js';
import { readOcspResponse } from './response.js';
import type { CertStatus, OcspResponseStatus, RevocationReason } from './types.js';

export interface OcspResponseSummary {
  responseStatus: 'successful' | OcspResponseStatus;
  /** Absent unless successful. */
  producedAt?: Date;
  /** Each SingleResponse in order; empty unless successful. */
  responses: SingleResponseSummary[];
  /** How many certificates the response carries (a delegated responder's, usually). */
  certificateCount: number;
}

export interface SingleResponseSummary {
  certId: {
    /** `sha1`, `sha256`, or the dotted OID of any other hash. */
    hashAlgorithm: string;
    issuerNameHash: string;
    issuerKeyHash: string;
    serialNumber: string;
  };
  status: CertStatus;
  revocationTime?: Date;
  revocationReason?: RevocationReason;
  thisUpdate: Date;
  nextUpdate?: Date;
}

/**
 * Decodes an OCSPResponse for display. This does NOT verify anything: use OcspVerifier before
 * trusting or stapling the bytes.
 * @throws OcspError `malformed` when the bytes do not parse.
 */
export function parseOcspResponse(der: Buffer): OcspResponseSummary {
  const fields = readOcspResponse(der);
  if (!fields.basic) return { responseStatus: fields.responseStatus, responses: [], certificateCount: 0 };
  const { basic } = fields;
  return {
    responseStatus: fields.responseStatus,
    producedAt: basic.producedAt,
    responses: basic.responses.map(({ certId: { hashAlgorithmOid, ...hashes }, ...rest }) => ({
      certId: { hashAlgorithm: certIdHashOf(hashAlgorithmOid) ?? hashAlgorithmOid, ...hashes },
      ...rest,
    })),
    certificateCount: basic.certs.length,
  };
}
