export { OcspClient, type OcspFetchRequest, type OcspFetchResult } from './client.js';
export type { HttpMethod, OcspHttpResponse } from './exchange.js';
export { FetchError, OcspClientClosedError, isFetchError, type FetchErrorCode, type FetchErrorDetails } from './errors.js';
export { DEFAULT_OCSP_CLIENT_OPTIONS, type OcspClientOptions } from './options.js';
export { parseRetryAfter } from './retry-after.js';
