export { OcspClient, type OcspFetchRequest, type OcspFetchResult } from './client.js';
export type { HttpMethod, OcspHttpResponse } from './exchange.js';
export {
  AddressRefusedError,
  FetchError,
  OcspClientClosedError,
  isFetchError,
  type FetchErrorCode,
  type FetchErrorDetails,
} from './errors.js';
export { DEFAULT_OCSP_CLIENT_OPTIONS, MAX_OCSP_URLS, type OcspClientOptions } from './options.js';
export {
  AddressPolicy,
  AddressPolicyError,
  RESPONDER_ALLOW_SETTING,
  classifyAddress,
  parseResponderAllow,
  type AddressCategory,
  type AddressVerdict,
} from './address-policy.js';
export { policyConnector, policyLookup, type ResolveAll } from './connector.js';
export { parseRetryAfter } from './retry-after.js';
