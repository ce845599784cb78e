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
