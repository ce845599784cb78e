export { OcspRelay, certIdKey, type OcspRelayDeps, type RelayAnswer } from './relay.js';
export { startRelayServer, type RelayServer, type RelayServerOptions } from './server.js';
export { DEFAULT_RELAY_OPTIONS, resolveRelayOptions, type RelayOptions, type ResolvedRelayOptions } from './options.js';
export {
  RELAY_RESULTS,
  silentRelayLogger,
  silentRelayObserver,
  type MissFetcher,
  type RelayLogger,
  type RelayObserver,
  type RelayResult,
  type StapleSource,
} from './ports.js';
export { DEFAULT_LISTEN, formatListenAddress, parseListenAddress, type ListenAddress } from './listen-address.js';
export { derCandidates, readRequestForm, type RequestForm, type RequestReading } from './request-form.js';
export { cacheControl, httpDate, notModified, servedTimes, stapleHeaders, type ResponseTimes, type ServedTimes } from './http-headers.js';
export { matchStaple, type StapleEntry, type StapleMatch } from './staple-entry.js';
export { missTarget } from './miss-target.js';
export { MemoryCache, SingleFlight } from './memory-cache.js';
export { RelayError, isRelayError, type RelayErrorCode } from './errors.js';
