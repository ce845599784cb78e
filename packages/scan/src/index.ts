export { SCAN_DEFAULTS, scanCertificateStores, type ScanOptions, type ScanReport } from './scan.js';
export {
  PENDING_WINDOW,
  pairLeaves,
  pairWithinBundle,
  type FoundCertificate,
  type NoOcspLeaf,
  type PairingResult,
  type ScannedTarget,
} from './pair/pair.js';
export { MAX_ISSUER_CANDIDATES } from './pair/issuers.js';
export type { ScanProblem, ScanProblemCode } from './problems.js';
export { DEFAULT_MAX_FILE_BYTES } from './collect/read.js';
export { INTERLEAVED_SUBTREES } from './collect/walk.js';
export { SCAN_THREAD_NICE } from './thread/priority.js';
export { ScanError, type ScanErrorCode } from './errors.js';
