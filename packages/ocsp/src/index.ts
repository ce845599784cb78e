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
export { OcspError, isOcspError, type OcspErrorCode } from './errors.js';
export { parseCertificates } from './certificate.js';
export { isPrivateKeyPem } from './pem.js';
export { isIssuedBy, namesIssuer } from './issuer.js';
export { certIdFor, certIdEquals } from './cert-id.js';
export { encodeOcspRequest, ocspGetUrl } from './request.js';
export { buildTarget } from './target.js';
export { OcspVerifier, type OcspVerifierOptions, type VerifyExpectation } from './verify.js';
export { parseOcspResponse, type OcspResponseSummary, type SingleResponseSummary } from './summary.js';
