export type {
  CertId,
  CertIdHash,
  CertStatus,
  OcspResponseStatus,
  ParsedCertificate,
  RevocationReason,
  Staple,
  StapleTarget,
} from './types.js';
export { OcspError, OcspRequestError, isOcspError, isOcspRequestError, type OcspErrorCode, type OcspRequestErrorCode } from './errors.js';
export { parseCertificates } from './certificate.js';
export { decodePemBody, isPrivateKeyPem, pemBlocks, pemLabels, type PemBlock } from './pem.js';
export { isIssuedBy, namesIssuer } from './issuer.js';
export { certIdFor, certIdEquals } from './cert-id.js';
export { encodeOcspRequest, ocspGetUrl } from './request.js';
export {
  MAX_OCSP_REQUEST_BYTES,
  parseOcspRequest,
  requestedCertIdToCertId,
  type OcspRequestFields,
  type RequestedCertId,
} from './ocsp-request.js';
export { encodeOcspStatusResponse } from './status-response.js';
export { issuerHashes, type IssuerHashes } from './issuer-hashes.js';
export { buildTarget } from './target.js';
export { OcspVerifier, type OcspVerifierOptions, type VerifyExpectation } from './verify.js';
export { parseOcspResponse, type OcspResponseSummary, type SingleResponseSummary } from './summary.js';
