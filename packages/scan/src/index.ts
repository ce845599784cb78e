export { scanCertificateStores, type ScanOptions, type ScanReport } from './scan.js';
export { pairLeaves, pairWithinBundle, type NoOcspLeaf, type PairingResult, type ScannedTarget } from './pair.js';
export type { ScanProblem, ScanProblemCode } from './problems.js';
export { DEFAULT_MAX_FILE_BYTES } from './read.js';
export { ScanError, type ScanErrorCode } from './errors.js';
