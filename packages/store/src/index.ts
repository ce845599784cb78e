export { StapleStore, type StapleStoreOptions } from './staple-store.js';
export { DEFAULT_PREFIX, stapleKeys, type StapleKeys } from './keys.js';
export {
  CertIdIndex,
  ISSUER_URLS_KEPT,
  issuerIdOf,
  type CertIdIndexOptions,
  type IndexedCertificate,
  type IndexedIssuer,
} from './certid-index.js';
export { META_FIELDS, META_GRACE_MS, type MetaField } from './meta.js';
export {
  REQUIRED_EVICTION_POLICY,
  checkEvictionPolicy,
  evictionWarning,
  type EvictionFinding,
  type EvictionPolicySource,
} from './eviction.js';
export { StoreError, isStoreError, type StoreErrorCode } from './errors.js';
export type { FailureContext, StapleFailure, StapleMeta, StapleRecord, StapleState, WriteOutcome } from './types.js';
