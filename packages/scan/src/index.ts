export { scanCertificateStores, type ScanOptions, type ScanReport } from './scan.js';
export { pairLeaves, pairWithinBundle, type NoOcspLeaf, type PairingResult, type ScannedTarget } from './pair.js';
export type { ScanProblem, ScanProblemCode } from './problems.js';
