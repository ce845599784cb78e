/** @staplewarm/responder-sim: a test-PKI generator and a fast local OCSP responder simulator. */
export { generatePki, DEFAULT_PORT, type GeneratePkiOptions } from './pki/generate.js';
export { readManifest, type PkiManifest, type LeafEntry, type CaCertificateEntry } from './pki/manifest.js';
export { PkiPaths } from './pki/layout.js';
export type { KeyType } from './pki/keys.js';
export { startResponder, type Responder, type StartResponderOptions } from './responder/responder.js';
export { findFreePort } from './responder/free-port.js';
export type { SignerKind } from './responder/load-pki.js';
export type { CertIdHash } from './responder/cert-id.js';
export { FAULT_NAMES, type FaultName, type FaultTrigger, type Faults } from './responder/faults.js';
export type { ResponderStats } from './responder/stats.js';
export { SimError, isSimError, type SimErrorCode } from './errors.js';
